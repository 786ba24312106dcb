import Foundation
import TextSafety

/// Where the CLI writes: standard output for results, standard error for diagnostics (made terminal-safe: no
/// escape sequence that came inside an error reaches the terminal). Tests pass their own sinks.
struct Console: Sendable {
    private let writeOut: @Sendable (String) -> Void
    private let writeErr: @Sendable (String) -> Void
    /// Whether standard output and standard error are terminals that take colour.
    var colourOut = false
    var colourErr = false

    init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        writeOut = out
        writeErr = err
    }

    static let standard = Console(
        out: { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) },
        err: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })

    /// A result line on standard output.
    func out(_ line: String) { writeOut(line) }

    /// A diagnostic on standard error, made terminal-safe.
    func err(_ line: String) { writeErr(SafeText.terminal(line)) }

    /// `error: message` on standard error, the label red on a terminal that takes colour.
    func error(_ message: String) {
        writeErr((colourErr ? "\u{1B}[1;31merror:\u{1B}[0m " : "error: ") + SafeText.terminal(message))
    }

    /// The standard console, with colour where the stream is a terminal and neither NO_COLOR (https://no-color.org)
    /// nor TERM=dumb says otherwise.
    static func standard(environment: [String: String]) -> Console {
        var console = standard
        let allowed = (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        console.colourOut = allowed && isatty(STDOUT_FILENO) == 1
        console.colourErr = allowed && isatty(STDERR_FILENO) == 1
        return console
    }
}

