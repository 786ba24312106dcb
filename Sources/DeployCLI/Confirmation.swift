import Foundation
#if canImport(Glibc)
import Glibc
#endif

import Deployment

enum Confirmation {
    /// Asks on a terminal unless `autoApprove` (--auto-approve); refuses when there is no terminal, and under
    /// --output json, whose stream of events has no room for a question.
    static func ask(_ question: String, autoApprove: Bool, _ context: CommandContext) throws {
        if autoApprove { return }
        guard context.options.output == .text else {
            throw UsageError(message: "--output json reports events and cannot ask for confirmation: review the plan and pass --auto-approve",
                             command: nil)
        }
        guard isatty(STDIN_FILENO) == 1 else {
            throw UsageError(message: "not on a terminal, so nothing can be confirmed: review the plan and pass --auto-approve",
                             command: nil)
        }
        context.console.out("\(question) Only 'yes' will be accepted.")
        FileHandle.standardOutput.write(Data("  Enter a value: ".utf8))
        guard readLine() == "yes" else { throw NotConfirmed(description: "cancelled; nothing was changed") }
    }
}
