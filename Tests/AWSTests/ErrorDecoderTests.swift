import Foundation
import Testing
@testable import AWS

@Suite("Error decoding across protocol families")
struct ErrorDecoderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var status: Int
        var headers: [(String, String)] = []
        var body: String
        var code: String
        var message: String
        var requestID: String?
        var testDescription: String { name }
    }

    @Test("every shape decodes to code, message and request id", arguments: [
        Case(name: "Query", status: 403,
             body: "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                + "<Message>nope</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
             code: "AccessDenied", message: "nope", requestID: "r-1"),
        Case(name: "EC2", status: 401,
             body: "<Response><Errors><Error><Code>AuthFailure</Code><Message>bad</Message></Error></Errors><RequestID>r-2</RequestID></Response>",
             code: "AuthFailure", message: "bad", requestID: "r-2"),
        Case(name: "S3", status: 404, headers: [("x-amz-request-id", "r-3")],
             body: "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>r-3b</RequestId></Error>",
             code: "NoSuchKey", message: "gone", requestID: "r-3b"),
        Case(name: "JSON 1.1 with namespace", status: 400, headers: [("x-amzn-RequestId", "r-4")],
             body: #"{"__type":"com.amazonaws.kms#NotFoundException","message":"no key"}"#,
             code: "NotFoundException", message: "no key", requestID: "r-4"),
        Case(name: "JSON 1.0 with Message", status: 400, headers: [("x-amzn-RequestId", "r-5")],
             body: #"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","Message":"no table"}"#,
             code: "ResourceNotFoundException", message: "no table", requestID: "r-5"),
        Case(name: "error type header", status: 400, headers: [("x-amzn-ErrorType", "ValidationException:http://internal.amazon.com/")],
             body: "", code: "ValidationException", message: ""),
        Case(name: "XML denial from a JSON service (moto)", status: 403,
             body: "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User is not authorized</Message></Error></ErrorResponse>",
             code: "AccessDenied", message: "User is not authorized"),
        Case(name: "HEAD without body", status: 404, body: "", code: "NotFound", message: ""),
        Case(name: "garbage body", status: 502, body: "<html><body>Bad gateway", code: "BadGateway", message: ""),
        Case(name: "truncated JSON", status: 500, body: #"{"__type": "#, code: "InternalError", message: ""),
    ])
    func decodes(_ example: Case) {
        let response = HTTPResponse(status: example.status, headers: HTTPHeaders(example.headers), body: Data(example.body.utf8))
        let error = ErrorDecoder.decode(response, service: "svc", operation: "Op")
        #expect(error.code == example.code)
        #expect(error.message == example.message)
        #expect(error.requestID == example.requestID)
        #expect(error.httpStatus == example.status)
        #expect(error.description.hasPrefix("svc Op failed: \(example.code)"))
    }

    @Test("malformed XML reports its line")
    func xmlLine() {
        let error = #expect(throws: XMLNode.ParseError.self) { try XMLNode.parse(Data("<a>\n<b>\n</a>".utf8)) }
        #expect(error?.line == 3)
    }
}

@Suite("Retry policy and timestamps")
struct RetryAndTimeTests {
    @Test("full jitter stays under the capped exponential ceiling", arguments: 1...12)
    func jitter(_ retry: Int) {
        let policy = RetryPolicy(maxAttempts: 20, baseDelay: 0.5, maxDelay: 20)
        let ceiling = min(20, 0.5 * pow(2, Double(retry - 1)))
        #expect(policy.delay(beforeRetry: retry, random: 0) == 0)
        #expect(abs(policy.delay(beforeRetry: retry, random: 0.999_999) - ceiling) < 0.001)
        #expect(policy.delay(beforeRetry: retry, random: 0.5) <= ceiling)
    }

    @Test("retryable codes and statuses")
    func classification() {
        for code in ["Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown", "TooManyRequestsException"] {
            #expect(RetryClassifier.isRetryable(code: code, status: 400))
        }
        for status in [429, 500, 502, 503, 504] { #expect(RetryClassifier.isRetryable(code: "X", status: status)) }
        #expect(!RetryClassifier.isRetryable(code: "AccessDenied", status: 403))
        #expect(!RetryClassifier.isRetryable(code: "ValidationException", status: 400))
    }

    @Test("timestamps", arguments: [
        ("2015-08-30T12:36:00Z", 1_440_938_160.0), ("2015-08-30T12:36:00.500Z", 1_440_938_160.5),
        ("2015-08-30T14:36:00+02:00", 1_440_938_160.0),
    ])
    func iso8601(_ text: String, _ seconds: Double) {
        #expect(Timestamp.parseISO8601(text)?.timeIntervalSince1970 == seconds)
    }

    @Test("bad timestamps are rejected", arguments: ["2015-13-30T12:36:00Z", "2015-08-30", "2015-08-30T12:36:00Zjunk", ""])
    func badTimestamps(_ text: String) {
        #expect(Timestamp.parseISO8601(text) == nil)
    }

    @Test("HTTP dates")
    func httpDate() {
        #expect(Timestamp.parseHTTPDate("Sun, 30 Aug 2015 12:36:00 GMT")?.timeIntervalSince1970 == 1_440_938_160)
        #expect(Timestamp.parseHTTPDate("yesterday") == nil)
        #expect(Timestamp.amzDate(Date(timeIntervalSince1970: 1_440_938_160)).dateTime == "20150830T123600Z")
    }
}
