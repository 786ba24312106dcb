import Diagnostics
/// A position in a source file, 1-based, for error messages.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and compilers use.
    public var description: String { "\(file):\(line):\(column)" }
}

/// A problem in a stack or template file: where it is and what is wrong. Always input the user can fix.
public struct StackError: Error, Sendable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String

    public init(_ message: String, at location: SourceLocation?) {
        self.message = message
        self.location = location
    }

    public var description: String {
        location.map { "\($0): \(message)" } ?? message
    }
}

/// "Did you mean": the closest candidate by edit distance, if it is close enough to be a typo.
public enum Suggestion {
    /// The candidate closest to `word`, or nil when none is plausibly a misspelling of it.
    public static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        // a typo is short; measuring a megabyte against every candidate would only take time
        guard word.count <= 64 else { return nil }
        let scored = candidates.map { ($0, distance(word, $0)) }.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        guard let (candidate, score) = scored, score <= max(2, word.count / 3) else { return nil }
        return candidate
    }

    /// `message` followed by "; did you mean 'x'?" when a close candidate exists.
    public static func message(_ message: String, for word: String, among candidates: some Sequence<String>) -> String {
        guard let suggestion = closest(to: word, among: candidates) else { return message }
        return "\(message); did you mean '\(suggestion)'?"
    }

    /// Levenshtein distance.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

extension StackError: UserFacingError {
    public var failureKind: FailureKind { .usage }
    public var errorLocation: ErrorLocation? { location.map { ErrorLocation(file: $0.file, line: $0.line, column: $0.column) } }
}
