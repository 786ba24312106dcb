import Foundation
import Stack
import Testing
@testable import DeployCLI

/// How often a command expands the whole stack, each time evaluating every block and hashing every artifact: once,
/// when the stack is loaded (`LoadedStack`); the instance-type check and the compliance rules read that expansion,
/// and the planner refines it. A budget that must not go up (apply's is held by DeploymentTests).
@Suite("expansion budget", .serialized)
struct ExpansionBudgetTests {
    @Test("plan of a new stack: one full expansion")
    func plan() async throws {
        let (stack, directory) = try StackCommandTests().scratchStack()
        defer { try? FileManager.default.removeItem(at: directory) }
        let counter = ExpansionCounter()
        let (code, output) = await Expander.$observer.withValue(counter) {
            await CommandLineTests().run(["plan", "--stack", stack, "--no-refresh", "--no-lock"])
        }
        #expect(code == 0, "\(output.stderr)")
        #expect(counter.value == 1)
    }
}
