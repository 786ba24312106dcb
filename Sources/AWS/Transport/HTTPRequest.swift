import Foundation

/// One HTTP request as it goes on the wire: `path` and `query` are already percent-encoded.
public struct HTTPRequest: Sendable {
    public var method: String
    public var scheme: String
    public var host: String
    public var port: Int?
    public var path: String
    public var query: String
    public var headers: HTTPHeaders
    public var body: Data
    /// A body streamed from a file instead of `body` (which is then empty).
    public var bodyFile: FileBody?
    /// False for a call that must not run twice: it then gets a connection of its own, since libcurl silently resends
    /// a request once when a reused connection closes before any answer.
    public var mayRepeat = true

    public init(method: String, scheme: String = "https", host: String, port: Int? = nil,
                path: String = "/", query: String = "", headers: HTTPHeaders = [:], body: Data = Data(), bodyFile: FileBody? = nil) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bodyFile = bodyFile
    }

    /// The value of the Host header: the port is included only when it is not the scheme's default.
    public var hostHeader: String {
        guard let port, port != (scheme == "https" ? 443 : 80) else { return host }
        return "\(host):\(port)"
    }

    /// The full URL, as handed to the transport.
    public var url: String {
        "\(scheme)://\(hostHeader)\(path)" + (query.isEmpty ? "" : "?\(query)")
    }

    /// The URL with the query's signature and token values elided, for messages and debug output.
    public var redactedURL: String {
        "\(scheme)://\(hostHeader)\(path)" + (query.isEmpty ? "" : "?\(Redaction.redactQuery(query))")
    }
}

/// One HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
