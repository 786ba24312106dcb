import Foundation

/// Turns an unsuccessful HTTP response from any protocol family into an `AWSError`.
/// The body's shape decides, not the service's protocol: some JSON services (and moto)
/// answer denials with XML, and HEAD answers have no body at all.
enum ErrorDecoder {
    static func decode(_ response: HTTPResponse, service: String, operation: String) -> AWSError {
        let requestID = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
            ?? response.headers["x-amz-id-2"]
        var error = AWSError(service: service, operation: operation, code: fallbackCode(response.status),
                             message: "", httpStatus: response.status, requestID: requestID)
        let body = response.body.drop { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
        if let typeHeader = response.headers["x-amzn-ErrorType"] {
            error.code = shortCode(typeHeader)
        }
        if body.first == UInt8(ascii: "{") {
            decodeJSON(Data(body), into: &error)
        } else if body.first == UInt8(ascii: "<") {
            decodeXML(Data(body), into: &error)
        }
        return error
    }

    private static func decodeJSON(_ body: Data, into error: inout AWSError) {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: body) else { return }
        if let type = object["__type"]?.stringValue ?? object["code"]?.stringValue ?? object["Code"]?.stringValue {
            error.code = shortCode(type)
        }
        if let message = object["message"]?.stringValue ?? object["Message"]?.stringValue ?? object["errorMessage"]?.stringValue {
            error.message = message
        }
    }

    private static func decodeXML(_ body: Data, into error: inout AWSError) {
        guard let root = try? XMLNode.parse(body) else { return }
        // Query: ErrorResponse/Error/Code; EC2: Response/Errors/Error/Code; S3: Error/Code.
        let node = root.descendant("Error") ?? root
        if let code = node.child("Code")?.text, !code.isEmpty { error.code = code }
        if let message = node.child("Message")?.text { error.message = message }
        if let id = root.descendant("RequestId")?.text ?? root.descendant("RequestID")?.text, !id.isEmpty {
            error.requestID = id
        }
    }

    /// `com.amazon.coral.service#ExpiredTokenException` and `Code:http://...` both become the bare code.
    static func shortCode(_ raw: String) -> String {
        let afterHash = raw.split(separator: "#").last.map(String.init) ?? raw
        return afterHash.split(separator: ":").first.map(String.init) ?? afterHash
    }

    static func fallbackCode(_ status: Int) -> String {
        switch status {
        case 301: return "PermanentRedirect"
        case 304: return "NotModified"
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 409: return "Conflict"
        case 412: return "PreconditionFailed"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 502: return "BadGateway"
        case 503: return "ServiceUnavailable"
        case 504: return "GatewayTimeout"
        default: return "HTTP\(status)"
        }
    }
}
