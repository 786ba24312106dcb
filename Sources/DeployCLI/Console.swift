import Foundation
import TextSafety

/// Where the CLI writes: standard output for results, standard error for diagnostics (made terminal-safe: no
/// escape sequence that came inside an error reaches the terminal). Tests pass their own sinks.
struct Console: Sendable {
    var out: @Sendable (String) -> Void
    var err: @Sendable (String) -> Void

    static let standard = Console(
        out: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
        err: { FileHandle.standardError.write(Data((SafeText.terminal($0) + "\n").utf8)) })
}
