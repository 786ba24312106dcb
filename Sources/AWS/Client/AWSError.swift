import Diagnostics
/// Every failure of a call to AWS: an error answered by the service, a response that could not be
/// decoded, or a request that never got an answer. Carries what an operator needs to act on it.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public enum Category: String, Sendable {
        /// The service answered with an error (code and message are the service's).
        case service
        /// The service answered, but not in the expected shape.
        case malformedResponse
        /// No answer: connection, timeout, DNS, TLS.
        case transport
    }

    public var category: Category
    /// The service's signing name: `sts`, `s3`, `kms`.
    public var service: String
    public var operation: String
    /// The AWS error code (`AccessDenied`, `ThrottlingException`), or for local failures a code of ours.
    public var code: String
    public var message: String
    public var httpStatus: Int?
    public var requestID: String?
    /// Attempts made, retries included.
    public var attempts: Int

    public init(category: Category = .service, service: String, operation: String, code: String, message: String,
                httpStatus: Int? = nil, requestID: String? = nil, attempts: Int = 1) {
        self.category = category
        self.service = service
        self.operation = operation
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.requestID = requestID
        self.attempts = attempts
    }

    public var description: String {
        var text = "\(service) \(operation) failed: \(code)"
        if !message.isEmpty { text += ": \(message)" }
        var details: [String] = []
        if let httpStatus { details.append("HTTP \(httpStatus)") }
        if let requestID { details.append("request id \(requestID)") }
        if attempts > 1 { details.append("after \(attempts) attempts") }
        return details.isEmpty ? text : "\(text) (\(details.joined(separator: ", ")))"
    }
}

extension AWSError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
