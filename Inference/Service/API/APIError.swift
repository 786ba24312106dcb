import Foundation

/// An error in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`, with its HTTP status.
public struct APIError: Error, Sendable {
    public var status: Int
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    public var headers: [(String, String)] = []

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil, headers: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers
    }

    public static func invalid(_ message: String, param: String?, code: String? = nil) -> APIError {
        APIError(status: 400, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static let unauthorized = APIError(status: 401, message: "a valid API key is needed: send it as 'Authorization: Bearer KEY'",
                                              type: "invalid_request_error", param: nil, code: "invalid_api_key")

    public static func notFound(_ message: String, code: String? = nil) -> APIError {
        APIError(status: 404, message: message, type: "invalid_request_error", param: nil, code: code)
    }

    public static func rateLimited(retryAfter: Int, _ message: String) -> APIError {
        APIError(status: 429, message: message, type: "rate_limit_error", param: nil, code: "rate_limit_exceeded",
                 headers: [("Retry-After", String(max(1, retryAfter)))])
    }

    public static func unavailable(_ message: String, retryAfter: Int = 1) -> APIError {
        APIError(status: 503, message: message, type: "server_error", param: nil, code: "unavailable",
                 headers: [("Retry-After", String(retryAfter))])
    }

    public var body: [String: Any] {
        ["error": ["message": message, "type": type, "param": param as Any? ?? NSNull(), "code": code as Any? ?? NSNull()]]
    }

    public var response: HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(JSONBody.encode(body)))
    }
}

/// JSON bodies: objects of strings, numbers, bools, arrays, nested objects and NSNull.
enum JSONBody {
    static func encode(_ object: Any) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes, .sortedKeys])) ?? Data("{}".utf8))
    }
}
