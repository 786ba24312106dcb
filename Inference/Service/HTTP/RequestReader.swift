/// Limits that keep one client from holding a worker or the memory: how big a request may be and how long each
/// part of it may take to arrive.
public struct HTTPLimits: Sendable {
    public var maxHeaderBytes = 16 * 1024
    public var maxBodyBytes = 4 * 1024 * 1024
    /// From the first byte of a request to the end of its headers: a client sending a byte a second is cut off.
    public var headerTimeout: Duration = .seconds(10)
    /// For the whole body, once the headers are in.
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(30)

    public init() {}
}

/// Reads requests off one connection, keeping what arrived beyond one request for the next.
final class RequestReader {
    enum Outcome {
        case request(HTTPRequest)
        /// The client closed the connection (or stayed silent past the idle timeout) between requests.
        case closed
        /// A request that cannot be served, answered with `status` and then the connection closed.
        case refused(status: Int, message: String)
    }

    private let stream: ByteStream
    private let limits: HTTPLimits
    private let peer: String
    private var buffer: [UInt8] = []
    /// Sends `100 Continue` when a client asks for it before sending its body.
    var sendContinue: () -> Bool = { true }
    /// Whether the server is stopping: an idle connection then closes instead of waiting for another request.
    var stopping: () -> Bool = { false }

    init(stream: ByteStream, limits: HTTPLimits, peer: String) {
        self.stream = stream
        self.limits = limits
        self.peer = peer
    }

    func next() -> Outcome {
        // wait for the first byte of the next request
        if buffer.isEmpty {
            let idleEnd = ContinuousClock.now + limits.idleTimeout
            while buffer.isEmpty {
                if stopping() || ContinuousClock.now >= idleEnd { return .closed }
                guard let first = stream.read(max: 16 * 1024, deadline: min(idleEnd, .now + .milliseconds(200))) else { continue }
                guard !first.isEmpty else { return .closed }
                buffer = first
            }
        }
        let headerDeadline = ContinuousClock.now + limits.headerTimeout
        var end: Int?
        while true {
            end = Self.headerEnd(buffer)
            if end != nil { break }
            guard buffer.count <= limits.maxHeaderBytes else {
                return .refused(status: 431, message: "the request's headers exceed \(limits.maxHeaderBytes) bytes")
            }
            guard let more = stream.read(max: 16 * 1024, deadline: headerDeadline) else {
                return .refused(status: 408, message: "the request's headers did not arrive within \(limits.headerTimeout)")
            }
            guard !more.isEmpty else { return .closed }
            buffer += more
        }
        guard let headerEnd = end, headerEnd <= limits.maxHeaderBytes else {
            return .refused(status: 431, message: "the request's headers exceed \(limits.maxHeaderBytes) bytes")
        }
        let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let parts = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") || parts[1] == "*" else {
            return .refused(status: 400, message: "malformed request line")
        }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .refused(status: 505, message: "only HTTP/1.0 and HTTP/1.1 are spoken here")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(" ") else { return .refused(status: 400, message: "malformed header line") }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let target = String(parts[1])
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) }
            ?? (target, nil)
        if let encoding = headers["transfer-encoding"], encoding.lowercased() != "identity" {
            return .refused(status: 501, message: "request bodies in transfer-encoding '\(encoding)' are not accepted; send Content-Length")
        }
        var length = 0
        if let text = headers["content-length"] {
            guard let value = Int(text), value >= 0 else { return .refused(status: 400, message: "invalid Content-Length") }
            length = value
        }
        guard length <= limits.maxBodyBytes else {
            return .refused(status: 413, message: "the request body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes)")
        }
        if length > buffer.count, headers["expect"]?.lowercased() == "100-continue", !sendContinue() { return .closed }
        let bodyDeadline = ContinuousClock.now + limits.bodyTimeout
        while buffer.count < length {
            guard let more = stream.read(max: min(64 * 1024, length - buffer.count), deadline: bodyDeadline) else {
                return .refused(status: 408, message: "the request body did not arrive within \(limits.bodyTimeout)")
            }
            guard !more.isEmpty else { return .closed }
            buffer += more
        }
        let body = Array(buffer.prefix(length))
        buffer.removeFirst(length)
        return .request(HTTPRequest(method: String(parts[0]), path: path, query: query, version: version, headers: headers,
                                    body: body, peer: peer))
    }

    /// The offset of the blank line that ends the headers.
    static func headerEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
