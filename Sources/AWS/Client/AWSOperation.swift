import Foundation

/// One call to an AWS API, before it is addressed and signed.
public struct AWSOperation: Sendable {
    public var service: AWSService
    /// The API operation name (`GetCallerIdentity`), for errors and the debug log.
    public var name: String
    public var method: String
    /// The encoded path below the endpoint (and below the bucket, for S3).
    public var path: String
    public var query: [(String, String)]
    public var headers: HTTPHeaders
    public var body: Data
    /// A body streamed from part of a file (an S3 part or object), instead of `body`.
    public var bodyFile: FileBody?
    /// S3 only: the bucket the request addresses, placed in the host or the path.
    public var bucket: String?
    /// A label put before the endpoint's host (S3 Control's account id), except on a custom endpoint, where the
    /// request goes to the host as given.
    public var hostPrefix: String?

    public init(service: AWSService, name: String, method: String = "POST", path: String = "/",
                query: [(String, String)] = [], headers: HTTPHeaders = [:], body: Data = Data(), bodyFile: FileBody? = nil, bucket: String? = nil,
                hostPrefix: String? = nil) {
        self.service = service
        self.name = name
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bodyFile = bodyFile
        self.bucket = bucket
        self.hostPrefix = hostPrefix
    }

    /// A call that only reads (`Describe*`, `Get*`, `List*`, or a REST GET or HEAD): sending it twice changes
    /// nothing, so a lost answer is always worth another attempt, even inside a create that must not repeat.
    public var onlyReads: Bool {
        if method == "GET" || method == "HEAD" { return true }
        return ["Describe", "Get", "List"].contains { prefix in
            name.hasPrefix(prefix) && name.dropFirst(prefix.count).first?.isUppercase == true
        }
    }
}

/// What the client reports about each attempt, for a `--debug` log. Never carries secrets.
public struct RequestEvent: Sendable {
    public var service: String
    public var operation: String
    public var method: String
    /// The URL with signature and token removed.
    public var url: String
    public var attempt: Int
    /// The HTTP status, or nil when the request got no answer.
    public var status: Int?
    public var requestID: String?
    /// The error code or transport failure, if any.
    public var failure: String?
    public var duration: TimeInterval
    /// Seconds waited before the next attempt, when one follows.
    public var retryDelay: TimeInterval?
    /// What the call was made for (a resource address), from `RequestLabel.current` of the calling task.
    public var label: String?

    public init(service: String, operation: String, method: String, url: String, attempt: Int) {
        self.service = service
        self.operation = operation
        self.method = method
        self.url = url
        self.attempt = attempt
        self.duration = 0
        self.label = RequestLabel.current
    }
}

/// Whether a request whose answer was lost (connection reset, timeout) may be sent again. Creates without an
/// idempotency token turn this off: the caller then looks for what the lost call may have made before trying again.
public enum RequestRetry {
    @TaskLocal public static var mayRepeat = true
}

/// Names what the requests of a task are for, so that request logs can say which resource each call served.
public enum RequestLabel {
    @TaskLocal public static var current: String?
}
