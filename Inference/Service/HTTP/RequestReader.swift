/// Limits that keep one client from holding a worker or the memory: how big a request may be and how long each
/// part of it may take to arrive.
public struct HTTPLimits: Sendable {
    public var maxHeaderBytes = 16 * 1024
    public var maxBodyBytes = 4 * 1024 * 1024
    /// How long a new connection may wait before the first byte of its first request (counted once it is open, its
    /// TLS handshake done): a client that connects and says nothing is closed, without an answer, well before the
    /// kept-alive `idleTimeout`.
    public var firstByteTimeout: Duration = .seconds(5)
    /// To the end of a request's headers: for a connection's first request, from the connection being open (so its
    /// whole head, first byte included, comes within this); for a later one, from its first byte. A client sending
    /// a byte a second is cut off.
    public var headerTimeout: Duration = .seconds(10)
    /// For the whole body, once the headers are in.
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(30)
    /// For each write of a response (a whole body, or one chunk of a stream): a client that does not read is
    /// dropped when it passes, and its connection slot freed.
    public var writeTimeout: Duration = .seconds(30)
    /// For the whole TLS handshake, however the client spaces its bytes.
    public var handshakeTimeout: Duration = .seconds(10)

    public init() {}
}

/// Reads requests off one connection, keeping what arrived beyond one request for the next.
final class RequestReader {
    enum Outcome {
        case request(HTTPRequest)
        /// The client closed the connection (or stayed silent past the idle timeout) between requests.
        case closed
        /// A request that cannot be served, answered with `status` and then the connection closed.
        case refused(status: Int, message: String, method: String? = nil, path: String? = nil)
    }

    private let stream: ByteStream
    private let limits: HTTPLimits
    private let peer: String
    private var buffer: [UInt8] = []
    private let opened = ContinuousClock.now
    /// Whether a request has been read off this connection already.
    private var served = false
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
        let first = !served
        served = true
        if buffer.isEmpty {
            let idleEnd = first ? opened + limits.firstByteTimeout : ContinuousClock.now + limits.idleTimeout
            while buffer.isEmpty {
                if stopping() || ContinuousClock.now >= idleEnd { return .closed }
                guard let first = stream.read(max: 16 * 1024, deadline: min(idleEnd, .now + .milliseconds(200))) else { continue }
                guard !first.isEmpty else { return .closed }
                buffer = first
            }
        }
        let headerDeadline = (first ? opened : ContinuousClock.now) + limits.headerTimeout
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
        let headBytes = Array(buffer[..<headerEnd])
        let parsed = HTTPHead.parse(headBytes)
        buffer.removeFirst(headerEnd + 4)
        let head: HTTPHead
        switch parsed {
        case .success(let value): head = value
        case .failure(let refusal):
            let line = Self.requestLine(headBytes)
            return .refused(status: refusal.status, message: refusal.message, method: line?.method, path: line?.path)
        }
        let headers = head.headers, length = head.contentLength
        let (path, query) = head.target.firstIndex(of: "?").map { (String(head.target[..<$0]), String(head.target[head.target.index(after: $0)...])) }
            ?? (head.target, nil)
        guard length <= limits.maxBodyBytes else {
            return .refused(status: 413, message: "the request body of \(length) bytes exceeds the limit of \(limits.maxBodyBytes)",
                            method: head.method, path: path)
        }
        if length > buffer.count, headers["expect"]?.lowercased() == "100-continue", !sendContinue() { return .closed }
        let bodyDeadline = ContinuousClock.now + limits.bodyTimeout
        while buffer.count < length {
            guard let more = stream.read(max: min(64 * 1024, length - buffer.count), deadline: bodyDeadline) else {
                return .refused(status: 408, message: "the request body did not arrive within \(limits.bodyTimeout)", method: head.method, path: path)
            }
            guard !more.isEmpty else { return .closed }
            buffer += more
        }
        let body = Array(buffer.prefix(length))
        buffer.removeFirst(length)
        return .request(HTTPRequest(method: head.method, path: path, query: query, version: head.version, headers: headers,
                                    body: body, peer: peer))
    }

    /// The method and path of a head refused for its headers, for the record, when its request line reads plainly
    /// (an upper-case method, a target that starts with "/"); nil for anything else.
    static func requestLine(_ head: [UInt8]) -> (method: String, path: String)? {
        let line = head.prefix { $0 != 13 && $0 != 10 }.split(separator: 32, omittingEmptySubsequences: false)
        guard line.count == 3, (1...16).contains(line[0].count), line[0].allSatisfy({ (65...90).contains($0) }),
              line[1].first == UInt8(ascii: "/"), line[1].count <= 2048 else { return nil }
        let target = String(decoding: line[1], as: UTF8.self)
        return (String(decoding: line[0], as: UTF8.self), target.firstIndex(of: "?").map { String(target[..<$0]) } ?? target)
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
