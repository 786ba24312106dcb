import Foundation

/// A request's head (request line and header fields), parsed strictly where leniency lets two parsers disagree:
/// a proxy in front and this server must never see different requests in the same bytes (request smuggling), and
/// no header that decides who the caller is may be given twice.
struct HTTPHead: Equatable {
    var method: String
    /// The request target as sent (path and query).
    var target: String
    var version: String
    /// Header names in lower case. Content-Length, Transfer-Encoding, Authorization and Host appear at most once
    /// (a repeat is refused); any other repeated header keeps its last value.
    var headers: [String: String]
    /// The body's length from Content-Length (0 without one).
    var contentLength: Int

    /// Why a head is refused: the status and a message for the client. The connection is closed after it.
    struct Refusal: Error, Equatable {
        var status: Int
        var message: String
    }

    /// Headers that may appear once only: a repeat could be read differently by a proxy (Content-Length,
    /// Transfer-Encoding, Host) or let one request carry two identities (Authorization).
    static let singular: Set<String> = ["content-length", "transfer-encoding", "authorization", "host"]

    /// Parses `head`: everything before the blank line that ends the headers, lines separated by CRLF.
    static func parse(_ head: [UInt8]) -> Result<HTTPHead, Refusal> {
        let malformed = Refusal(status: 400, message: "malformed header line")
        var lines = split(head)
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte),
              parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual([UInt8(ascii: "*")]),
              !parts[1].contains(where: { $0 < 0x21 || $0 == 0x7F }) else {
            return .failure(Refusal(status: 400, message: "malformed request line"))
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .failure(Refusal(status: 505, message: "only HTTP/1.0 and HTTP/1.1 are spoken here"))
        }
        var headers: [String: String] = [:]
        for line in lines {
            // obs-fold: a line that continues the one before; RFC 9112 lets a server refuse it, and a proxy that
            // unfolds it differently would see other headers
            if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                return .failure(Refusal(status: 400, message: "folded header lines (obs-fold) are not accepted"))
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex,
                  line[..<colon].allSatisfy(isTokenByte) else { return .failure(malformed) }
            let value = line[(colon + 1)...]
            guard !value.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) else { return .failure(malformed) }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            if singular.contains(name), headers[name] != nil {
                return .failure(Refusal(status: 400, message: "the header \(name) is given more than once"))
            }
            headers[name] = String(decoding: value, as: UTF8.self).trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        }
        if headers["transfer-encoding"] != nil, headers["content-length"] != nil {
            return .failure(Refusal(status: 400, message: "a request cannot have both Content-Length and Transfer-Encoding"))
        }
        if let encoding = headers["transfer-encoding"], encoding.lowercased() != "identity" {
            return .failure(Refusal(status: 501, message: "request bodies in transfer-encoding '\(encoding)' are not accepted; send Content-Length"))
        }
        var length = 0
        if let text = headers["content-length"] {
            // digits only: no sign, no inner space, no list ("5, 5"), not empty; Int overflow is refused too
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(text) else {
                return .failure(Refusal(status: 400, message: "invalid Content-Length"))
            }
            length = value
        }
        return .success(HTTPHead(method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
                                 version: version, headers: headers, contentLength: length))
    }

    /// The lines of `head`, split at CRLF.
    private static func split(_ head: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index + 1 < head.endIndex {
            if head[index] == 0x0D, head[index + 1] == 0x0A {
                lines.append(head[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(head[start...])
        return lines
    }

    /// RFC 9110's tchar: the bytes a method or header name is made of.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
