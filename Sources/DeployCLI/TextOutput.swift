import AWS
import Foundation

/// Aligned `Key  value` lines.
enum TextTable {
    static func keyValue(_ rows: [(String, String)]) -> String {
        let width = (rows.map { $0.0.count }.max() ?? 0) + 2
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + $0.1 }.joined(separator: "\n")
    }

    /// Columns: the first left-aligned, the rest right-aligned (numbers), two spaces apart.
    static func rows(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Stable, readable JSON for `--output json`.
enum JSONText {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// `--debug`: one line per AWS request attempt on standard error. Request events carry no secrets.
enum DebugLog {
    static func observer(_ context: CommandContext) -> (@Sendable (RequestEvent) -> Void)? {
        guard context.options.debug else { return nil }
        let console = context.console
        return { event in console.err(line(event)) }
    }

    static func line(_ event: RequestEvent) -> String {
        var text = "debug: \(event.label.map { "[\($0)] " } ?? "")\(event.service) \(event.operation) attempt \(event.attempt) \(event.method) \(event.url)"
        text += event.status.map { " -> \($0)" } ?? " -> no response"
        if let failure = event.failure { text += " \(failure)" }
        if let id = event.requestID { text += " request-id=\(id)" }
        text += String(format: " %.0fms", event.duration * 1000)
        if let delay = event.retryDelay { text += String(format: ", retrying in %.2fs", delay) }
        return text
    }
}
