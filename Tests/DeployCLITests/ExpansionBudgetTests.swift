import Foundation
import Stack
import Testing
@testable import DeployCLI

/// How often a command expands the whole stack, each time evaluating every block (and, but for the instance-type
/// check, hashing every artifact): a budget that only goes down. `plan` expands once when the stack is opened (what
/// validation and the compliance rules read), once in the planner, and once without hashing for the instance types.
/// Issue 38 takes this to one.
@Suite("expansion budget", .serialized)
struct ExpansionBudgetTests {
    @Test("plan of a new stack: three full expansions, of which two hash the artifacts")
    func plan() async throws {
        let (stack, directory) = try StackCommandTests().scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let counter = ExpansionCounter()
        let (code, output) = await Expander.$observer.withValue(counter) {
            await CommandLineTests().run(["plan", "--stack", stack, "--no-refresh", "--no-lock"])
        }
        #expect(code == 0, "\(output.stderr)")
        #expect(counter.value == 3)
    }
}
