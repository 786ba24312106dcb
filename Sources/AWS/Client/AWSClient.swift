import Foundation

/// Addresses, signs and sends AWS operations, retrying what is worth retrying.
/// One client is shared by every call of a run, so connections, the retry budget and the
/// clock correction are shared too.
public final class AWSClient: Sendable {
    public let configuration: ClientConfiguration
    public let credentialProvider: any CredentialProvider
    public let clock: ClockSkew
    let transport: any HTTPTransport
    let budget: RetryBudget
    let observer: (@Sendable (RequestEvent) -> Void)?

    /// - Parameter observer: called after every attempt (for a debug log); it never sees secrets.
    public init(configuration: ClientConfiguration, credentials: any CredentialProvider,
                transport: (any HTTPTransport)? = nil, budget: RetryBudget = RetryBudget(),
                observer: (@Sendable (RequestEvent) -> Void)? = nil) {
        self.configuration = configuration
        self.credentialProvider = credentials
        self.transport = transport ?? CurlTransport(options: configuration.transport)
        self.budget = budget
        self.clock = ClockSkew()
        self.observer = observer
    }

    /// A client that signs with other credentials (an assumed role) but shares this one's connections,
    /// retry budget and request log.
    public func withCredentials(_ provider: any CredentialProvider) -> AWSClient {
        AWSClient(configuration: configuration, credentials: provider, transport: transport, budget: budget, observer: observer)
    }

    /// A client for another region that signs with the same credentials and shares this one's connections, retry
    /// budget and request log (a state bucket outside the stack's region).
    public func inRegion(_ region: String) -> AWSClient {
        guard region != configuration.region else { return self }
        var configuration = configuration
        configuration.region = region
        return AWSClient(configuration: configuration, credentials: credentialProvider, transport: transport, budget: budget, observer: observer)
    }

    /// The endpoint `service` resolves to in this client's region.
    public func endpoint(for service: AWSService) throws -> Endpoint {
        try configuration.endpoints.resolve(service, region: configuration.region)
    }

    /// Sends `operation` and returns its 2xx response; any other outcome throws an `AWSError`
    /// (or the credential provider's error).
    public func send(_ operation: AWSOperation) async throws -> HTTPResponse {
        let endpoint = try endpoint(for: operation.service)
        var unsigned = makeRequest(operation, endpoint: endpoint)
        unsigned.mayRepeat = RequestRetry.mayRepeat || operation.onlyReads
        var attempt = 0
        var spent = 0
        while true {
            attempt += 1
            let credentials = try await credentialProvider.credentials()
            var request = unsigned
            signer(for: operation.service, endpoint: endpoint, credentials: credentials).sign(&request, date: clock.now())
            var event = RequestEvent(service: operation.service.signingName, operation: operation.name,
                                     method: request.method, url: request.redactedURL, attempt: attempt)
            let outcome = await attemptOnce(request, operation: operation, event: &event)
            switch outcome {
            case .success(let response):
                budget.release(spent > 0 ? spent : RetryBudget.successRefund)
                observer?(event)
                return response
            case .clockCorrected where attempt < configuration.retry.maxAttempts:
                event.retryDelay = 0
                observer?(event)
                continue
            case .clockCorrected(let error), .failed(let error):
                observer?(event)
                throw error.withAttempts(attempt)
            case .retryable(let error, let cost):
                guard attempt < configuration.retry.maxAttempts, budget.acquire(cost) else {
                    observer?(event)
                    throw error.withAttempts(attempt)
                }
                spent += cost
                let delay = configuration.retry.delay(beforeRetry: attempt, random: Double.random(in: 0..<1))
                event.retryDelay = delay
                observer?(event)
                try await Task.sleep(nanoseconds: UInt64(delay * 1_000_000_000))
            }
        }
    }

    private enum Outcome {
        case success(HTTPResponse)
        case clockCorrected(AWSError)
        case retryable(AWSError, cost: Int)
        case failed(AWSError)
    }

    private func attemptOnce(_ request: HTTPRequest, operation: AWSOperation, event: inout RequestEvent) async -> Outcome {
        let started = Date()
        let service = operation.service.signingName
        do {
            let response = try await transport.send(request)
            event.status = response.status
            event.duration = Date().timeIntervalSince(started)
            if (200..<300).contains(response.status) {
                event.requestID = response.headers["x-amzn-RequestId"] ?? response.headers["x-amz-request-id"]
                return .success(response)
            }
            let failure = ErrorDecoder.decode(response, service: service, operation: operation.name)
            event.requestID = failure.requestID
            event.failure = failure.code
            if RetryClassifier.clockSkewCodes.contains(failure.code), clock.correct(from: response, localTime: started) {
                return .clockCorrected(failure)
            }
            return RetryClassifier.isRetryable(code: failure.code, status: response.status)
                ? .retryable(failure, cost: RetryBudget.retryCost) : .failed(failure)
        } catch {
            event.duration = Date().timeIntervalSince(started)
            event.failure = error.message
            let failure = AWSError(category: .transport, service: service, operation: operation.name,
                                   code: error.kind.code, message: error.description)
            guard error.isTransient else { return .failed(failure) }
            // a lost answer may mean the endpoint acted: a call that must not run twice is not sent again blindly
            if !request.mayRepeat, error.kind == .connectionReset || error.kind == .timedOut { return .failed(failure) }
            return .retryable(failure, cost: error.kind == .timedOut ? RetryBudget.timeoutCost : RetryBudget.retryCost)
        }
    }

    func makeRequest(_ operation: AWSOperation, endpoint: Endpoint) -> HTTPRequest {
        var host = endpoint.host
        var path = endpoint.basePath + operation.path
        if let prefix = operation.hostPrefix, !endpoint.isCustom { host = "\(prefix).\(host)" }
        if let bucket = operation.bucket {
            if usesVirtualHost(bucket: bucket, endpoint: endpoint) {
                host = "\(bucket).\(host)"
            } else {
                path = "\(endpoint.basePath)/\(URIEncoding.encode(bucket))\(operation.path == "/" ? "" : operation.path)"
            }
        }
        return HTTPRequest(method: operation.method, scheme: endpoint.scheme, host: host, port: endpoint.port,
                           path: path.isEmpty ? "/" : path, query: URIEncoding.formEncode(operation.query),
                           headers: operation.headers, body: operation.body, bodyFile: operation.bodyFile)
    }

    func usesVirtualHost(bucket: String, endpoint: Endpoint) -> Bool {
        switch configuration.s3AddressingStyle {
        case .path: return false
        case .virtual: return true
        case .auto: return !endpoint.isCustom && S3BucketName.isDNSCompatible(bucket)
        }
    }

    func signer(for service: AWSService, endpoint: Endpoint, credentials: Credentials) -> SigV4Signer {
        SigV4Signer(credentials: credentials, region: endpoint.signingRegion, service: service.signingName,
                    options: service.signingName == "s3" ? .s3 : SigV4Signer.Options())
    }
}

extension AWSError {
    func withAttempts(_ attempts: Int) -> AWSError {
        var copy = self
        copy.attempts = attempts
        return copy
    }
}

extension TransportError.Kind {
    /// The code an `AWSError` carries for a request that got no answer.
    var code: String {
        switch self {
        case .connectionRefused: return "ConnectionRefused"
        case .connectionReset: return "ConnectionReset"
        case .timedOut: return "RequestTimedOut"
        case .hostNotFound: return "HostNotFound"
        case .tls: return "TLSFailure"
        case .cancelled: return "Cancelled"
        case .invalidRequest: return "InvalidRequest"
        case .other: return "TransportFailure"
        }
    }
}

/// S3's bucket naming rules, as far as addressing needs them.
public enum S3BucketName {
    /// True when the name can be a DNS label under TLS: 3-63 lower-case letters, digits and
    /// hyphens, starting and ending with a letter or digit (no dots: they break the certificate match).
    public static func isDNSCompatible(_ name: String) -> Bool {
        guard (3...63).contains(name.count), let first = name.first, let last = name.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber else { return false }
        return name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
}
