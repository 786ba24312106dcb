import Foundation
import Testing
@testable import AWS

/// The client over a real loopback socket: retries, budget, clock skew, decoding failures.
@Suite("AWS client against a scripted loopback server")
struct ClientRetryTests {
    static let keys = Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")

    static func client(port: Int, attempts: Int = 4, budget: RetryBudget = RetryBudget(),
                       requestTimeout: TimeInterval = 5) -> AWSClient {
        var configuration = ClientConfiguration(region: "us-east-1",
                                                endpoints: EndpointResolver(commandLineURL: "http://127.0.0.1:\(port)"),
                                                retry: RetryPolicy(maxAttempts: attempts, baseDelay: 0.01, maxDelay: 0.05))
        configuration.transport.requestTimeout = requestTimeout
        configuration.transport.connectTimeout = 1
        return AWSClient(configuration: configuration, credentials: StaticCredentialProvider(keys), budget: budget)
    }

    static let identity = """
        <GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/a</Arn>\
        <UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>
        """

    struct TransientCase: Sendable, CustomTestStringConvertible {
        var status: Int
        var body: String
        var testDescription: String { "\(status) \(body.prefix(40))" }
    }

    @Test("transient and throttling failures are retried until success", arguments: [
        TransientCase(status: 503, body: ""),
        TransientCase(status: 500, body: "<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>"),
        TransientCase(status: 400, body: "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"),
        TransientCase(status: 400, body: #"{"__type":"com.amazonaws#ThrottlingException","message":"slow"}"#),
        TransientCase(status: 503, body: "<Error><Code>SlowDown</Code></Error>"),
        TransientCase(status: 429, body: ""),
    ])
    func retriesTransientFailures(_ failure: TransientCase) async throws {
        let server = try LoopbackHTTPServer { _, index in
            index < 2 ? .init(status: failure.status, body: failure.body) : .init(status: 200, body: Self.identity)
        }
        defer { server.stop() }
        let identity = try await STS(client: Self.client(port: server.port)).getCallerIdentity()
        #expect(identity.account == "123456789012")
        #expect(server.requests.count == 3)
    }

    @Test("inside a create that must not repeat, a lost answer is retried only for calls that just read", arguments: [
        ("DescribeVpcs", true), ("GetCallerIdentity", true), ("ListKeys", true), ("CreateVpc", false), ("Getaway", false),
    ])
    func lostAnswersRetriedOnlyForReads(_ action: String, retried: Bool) async throws {
        let server = try LoopbackHTTPServer { _, index in
            index == 0 ? .init(status: 200, hangUp: true) : .init(status: 200, body: "<\(action)Response/>")
        }
        defer { server.stop() }
        let client = Self.client(port: server.port)
        let failure: AWSError? = await RequestRetry.$mayRepeat.withValue(false) {
            do {
                _ = try await client.query(.ec2, action: action)
                return nil
            } catch {
                return error as? AWSError
            }
        }
        if retried {
            #expect(failure == nil)
            #expect(server.requests.count == 2)
        } else {
            #expect(failure?.code == "ConnectionReset")
            #expect(server.requests.count == 1, "sent once: the endpoint may have acted")
        }
    }

    @Test("a non-retryable error fails at once with its code, message and request id")
    func nonRetryableFailsAtOnce() async throws {
        let server = try LoopbackHTTPServer { _, _ in
            .init(status: 403, body: "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error>"
                  + "<RequestId>req-1</RequestId></ErrorResponse>")
        }
        defer { server.stop() }
        let error = await #expect(throws: AWSError.self) { try await STS(client: Self.client(port: server.port)).getCallerIdentity() }
        #expect(error?.code == "AccessDenied")
        #expect(error?.message == "no")
        #expect(error?.requestID == "req-1")
        #expect(error?.httpStatus == 403)
        #expect(error?.operation == "GetCallerIdentity")
        #expect(server.requests.count == 1)
    }

    @Test("retries stop at the attempt limit")
    func attemptsAreBounded() async throws {
        let server = try LoopbackHTTPServer { _, _ in .init(status: 503) }
        defer { server.stop() }
        let error = await #expect(throws: AWSError.self) {
            try await STS(client: Self.client(port: server.port, attempts: 3)).getCallerIdentity()
        }
        #expect(error?.code == "ServiceUnavailable")
        #expect(error?.attempts == 3)
        #expect(server.requests.count == 3)
    }

    @Test("an empty retry budget stops retries")
    func budgetIsShared() async throws {
        let server = try LoopbackHTTPServer { _, _ in .init(status: 503) }
        defer { server.stop() }
        let budget = RetryBudget(capacity: RetryBudget.retryCost)
        let client = Self.client(port: server.port, attempts: 5, budget: budget)
        _ = await #expect(throws: AWSError.self) { try await STS(client: client).getCallerIdentity() }
        #expect(server.requests.count == 2)  // one retry was affordable
        #expect(budget.available == 0)
    }

    @Test("a skewed clock is corrected from the Date header and the request re-signed")
    func clockSkewIsCorrected() async throws {
        let serverTime = Date().addingTimeInterval(3600)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let dateHeader = formatter.string(from: serverTime)
        let server = try LoopbackHTTPServer { _, index in
            index == 0
                ? .init(status: 403, headers: [("Date", dateHeader)],
                        body: "<ErrorResponse><Error><Code>RequestTimeTooSkewed</Code></Error></ErrorResponse>")
                : .init(status: 200, body: Self.identity)
        }
        defer { server.stop() }
        let client = Self.client(port: server.port)
        _ = try await STS(client: client).getCallerIdentity()
        let secondDate = try #require(server.requests.last?.headers["x-amz-date"])
        // the re-signed request carries the server's time (within the test's own running time), not the local one
        let amz = DateFormatter()
        amz.locale = Locale(identifier: "en_US_POSIX")
        amz.timeZone = TimeZone(identifier: "UTC")
        amz.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let signedAt = try #require(amz.date(from: secondDate))
        #expect(abs(signedAt.timeIntervalSince(Date().addingTimeInterval(3600))) < 120, "signed at \(secondDate)")
        #expect(abs(client.clock.current - 3600) < 60)
    }

    @Test("a malformed XML answer is a typed error, not a crash")
    func malformedXML() async throws {
        let server = try LoopbackHTTPServer { _, _ in .init(status: 200, body: "<GetCallerIdentityResponse><oops") }
        defer { server.stop() }
        let error = await #expect(throws: AWSError.self) { try await STS(client: Self.client(port: server.port)).getCallerIdentity() }
        #expect(error?.category == .malformedResponse)
        #expect(error?.code == "MalformedResponse")
    }

    @Test("a well-formed answer missing a field is a typed error")
    func missingField() async throws {
        let server = try LoopbackHTTPServer { _, _ in
            .init(status: 200, body: "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn>"
                  + "</GetCallerIdentityResult></GetCallerIdentityResponse>")
        }
        defer { server.stop() }
        let error = await #expect(throws: AWSError.self) { try await STS(client: Self.client(port: server.port)).getCallerIdentity() }
        #expect(error?.message.contains("Account") == true)
    }

    @Test("a malformed JSON answer is a typed error naming the field")
    func malformedJSON() async throws {
        let server = try LoopbackHTTPServer { _, _ in .init(status: 200, body: #"{"Keys": [{"KeyId": 3}]}"#) }
        defer { server.stop() }
        let error = await #expect(throws: AWSError.self) { try await KMS(client: Self.client(port: server.port)).listKeys() }
        #expect(error?.category == .malformedResponse)
        #expect(error?.message.contains("Keys") == true)
    }

    @Test("JSON requests carry the target and content type")
    func jsonRequestShape() async throws {
        let server = try LoopbackHTTPServer { _, _ in .init(status: 200, body: #"{"TableNames": ["a", "b"]}"#) }
        defer { server.stop() }
        let names = try await DynamoDB(client: Self.client(port: server.port)).listTables()
        #expect(names == ["a", "b"])
        let request = try #require(server.requests.first)
        #expect(request.headers["x-amz-target"] == "DynamoDB_20120810.ListTables")
        #expect(request.headers["content-type"] == "application/x-amz-json-1.0")
        #expect(request.headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true)
    }

    @Test("an unreachable endpoint fails after the bounded attempts")
    func unreachableEndpoint() async throws {
        let server = try LoopbackHTTPServer { _, _ in .init(status: 200) }
        let port = server.port
        server.stop()  // nothing listens there now
        let error = await #expect(throws: AWSError.self) {
            try await STS(client: Self.client(port: port, attempts: 3)).getCallerIdentity()
        }
        #expect(error?.category == .transport)
        #expect(error?.code == "ConnectionRefused")
        #expect(error?.attempts == 3)
    }

    @Test("a server that accepts but never answers times out")
    func silentServerTimesOut() async throws {
        let server = try LoopbackHTTPServer { _, _ in
            Thread.sleep(forTimeInterval: 3)
            return .init(status: 200)
        }
        defer { server.stop() }
        let error = await #expect(throws: AWSError.self) {
            try await STS(client: Self.client(port: server.port, attempts: 1, requestTimeout: 0.3)).getCallerIdentity()
        }
        #expect(error?.code == "RequestTimedOut")
    }
}
