import Foundation

/// Request builders and response decoders for the three protocol families.
extension AWSClient {
    /// A Query-protocol call (STS, IAM, EC2): returns the response document's root element.
    public func query(_ service: AWSService, action: String, parameters: [(String, String)] = []) async throws -> XMLNode {
        guard case .query(let version) = service.wireProtocol else {
            preconditionFailure("\(service.signingName) does not speak the Query protocol")
        }
        let body = URIEncoding.formBody([("Action", action), ("Version", version)] + parameters)
        let operation = AWSOperation(service: service, name: action, method: "POST",
                                     headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
                                     body: Data(body.utf8))
        let response = try await send(operation)
        return try Self.parseXML(response, service: service, operation: action)
    }

    /// A JSON-protocol call (KMS, DynamoDB, CloudTrail, Logs), decoding the answer as `Response`.
    public func json<Response: Decodable>(_ service: AWSService, operation: String, input: some Encodable & Sendable,
                                          as response: Response.Type) async throws -> Response {
        guard case .json(let version, let targetPrefix) = service.wireProtocol else {
            preconditionFailure("\(service.signingName) does not speak the JSON protocol")
        }
        let body: Data
        do {
            body = try JSONEncoder().encode(input)
        } catch {
            throw AWSError(category: .malformedResponse, service: service.signingName, operation: operation,
                           code: "InvalidInput", message: "could not encode the request: \(error)")
        }
        let request = AWSOperation(service: service, name: operation, method: "POST",
                                   headers: ["Content-Type": "application/x-amz-json-\(version)",
                                             "X-Amz-Target": "\(targetPrefix).\(operation)"],
                                   body: body)
        let answer = try await send(request)
        do {
            return try JSONDecoder().decode(Response.self, from: answer.body.isEmpty ? Data("{}".utf8) : answer.body)
        } catch {
            throw AWSError(category: .malformedResponse, service: service.signingName, operation: operation,
                           code: "MalformedResponse", message: "unexpected JSON: \(Self.describe(error))",
                           httpStatus: answer.status, requestID: answer.headers["x-amzn-RequestId"])
        }
    }

    /// Parses an XML response body, or throws a typed error naming the operation and the line.
    static func parseXML(_ response: HTTPResponse, service: AWSService, operation: String) throws -> XMLNode {
        do {
            return try XMLNode.parse(response.body)
        } catch {
            throw AWSError(category: .malformedResponse, service: service.signingName, operation: operation,
                           code: "MalformedResponse", message: error.description, httpStatus: response.status,
                           requestID: response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"])
        }
    }

    /// The text of a required element, or a malformed-response error naming it.
    static func required(_ node: XMLNode?, _ name: String, service: AWSService, operation: String) throws -> String {
        guard let text = node?.child(name)?.text, !text.isEmpty else {
            throw AWSError(category: .malformedResponse, service: service.signingName, operation: operation,
                           code: "MalformedResponse", message: "the response has no \(name)")
        }
        return text
    }

    private static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        switch decoding {
        case .keyNotFound(let key, let context):
            return "missing \(context.codingPath.map(\.stringValue).joined(separator: "."))\(context.codingPath.isEmpty ? "" : ".")\(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
