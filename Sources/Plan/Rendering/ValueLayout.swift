import Stack

/// Lays out values for the text plan: short ones on one line, long maps and lists over several lines,
/// multi-line strings as heredocs.
enum ValueLayout {
    static let width = 100

    /// The lines of `value`; the first continues the line it starts on, the rest are indented by `indent`.
    static func lines(_ value: Value, indent: String) -> [String] {
        if case .string(let text) = value, text.contains("\n") {
            return ["<<EOT"] + text.split(separator: "\n", omittingEmptySubsequences: false).map { "\(indent)  \($0)" } + ["\(indent)EOT"]
        }
        let flat = value.description
        guard flat.count > width else { return [flat] }
        switch value {
        case .map(let entries):
            var out = ["{"]
            for key in entries.keys.sorted() {
                let inner = lines(entries[key]!, indent: indent + "  ")
                out.append("\(indent)  \(Value.displayKey(key)) = \(inner[0])")
                out += inner.dropFirst()
            }
            out.append("\(indent)}")
            return out
        case .list(let items):
            var out = ["["]
            for item in items {
                let inner = lines(item, indent: indent + "  ")
                out.append("\(indent)  \(inner[0])")
                out += inner.dropFirst()
                out[out.count - 1] += ","
            }
            out.append("\(indent)]")
            return out
        default:
            return [flat]
        }
    }
}
