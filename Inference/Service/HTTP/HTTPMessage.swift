/// A parsed HTTP/1.1 request.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without its query.
    public var path: String
    public var query: String?
    public var version: String
    /// Header names in lower case. Content-Length, Transfer-Encoding, Authorization and Host are never repeated (the
    /// request is refused); any other repeated header keeps its last value.
    public var headers: [String: String]
    public var body: [UInt8]
    /// The client's address, as `ip:port`.
    public var peer: String
    /// Whether the client is gone, checked without blocking; a long non-streamed generation polls it. A half-close
    /// is not gone: the answer is still written (see `StreamProbe`).
    public var clientGone: @Sendable () -> Bool = { false }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// What per-client limits count this request against: its IPv4 address, or its IPv6 address's /64.
    public var clientAddress: String { ClientAddress.key(ofPeer: peer) }

    /// Whether the connection stays open after the response (HTTP/1.1 unless `Connection: close`; 1.0 only if asked).
    public var keepAlive: Bool {
        let connection = header("connection")?.lowercased()
        return version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
    }
}

/// A response: a whole body, or a stream written piece by piece in chunked encoding.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// Called on the connection's thread with a writer; returns when the stream is complete.
        case stream(@Sendable (ChunkWriter) -> Void)
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a text body of `contentType`.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8",
                            headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)] + headers, body: .bytes(Array(text.utf8)))
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}

/// Writes one streamed response's pieces; `write` returns false once the client has gone.
public protocol ChunkWriter: Sendable {
    func write(_ bytes: [UInt8]) -> Bool
    /// Whether a write failed or the connection is broken (checked without blocking).
    var clientGone: Bool { get }
}
