import Guardrails
import Foundation
import InferenceEngine
import Synchronization

/// The OpenAI-compatible API over the scheduler: routes, API keys, the audit record of every request, metrics,
/// a rate limit per client, and streaming in OpenAI's server-sent-event format.
public final class OpenAIService: Sendable {
    public struct Options: Sendable {
        /// nil: no authentication (`--no-auth`).
        public var keys: KeyStore?
        public var audit: AuditLog?
        /// Each identity's budget (each address's with `--no-auth`), spent after authentication.
        public var rateLimiter: RateLimiter?
        /// Each address's budget for /health.
        public var healthLimiter: RateLimiter?
        /// Each address's budget for requests without a valid key.
        public var unauthenticatedLimiter: RateLimiter?
        /// The budget every address shares for requests without a valid key (one key, "every address").
        public var unauthenticatedTotalLimiter: RateLimiter?
        /// The guardrail policy (nil: none), each identity's quotas under it, and who hears of its reloads.
        public var policy: GuardrailPolicyStore?
        public var quotas: QuotaLedger?
        public var onPolicyReload: (@Sendable (GuardrailPolicyStore.Reload) -> Void)?

        public init(keys: KeyStore?, audit: AuditLog?, rateLimiter: RateLimiter?,
                    healthLimiter: RateLimiter? = RateLimiter(rate: 10, burst: 20),
                    unauthenticatedLimiter: RateLimiter? = RateLimiter(rate: 1, burst: 10),
                    unauthenticatedTotalLimiter: RateLimiter? = RateLimiter(rate: 20, burst: 100)) {
            self.keys = keys
            self.audit = audit
            self.rateLimiter = rateLimiter
            self.healthLimiter = healthLimiter
            self.unauthenticatedLimiter = unauthenticatedLimiter
            self.unauthenticatedTotalLimiter = unauthenticatedTotalLimiter
        }
    }

    let options: Options
    public let metrics = Metrics()
    let refusals = RefusalTally()
    /// Requests the HTTP layer refused past their address's budget of records (see `recordRefusal`).
    let unrecordedRefusals = RefusalTally(status: 400, event: "requests refused before routing (malformed, too large or too slow; "
                                            + "each caller's count is keyed by its status) past their address's budget of records, counted not recorded one by one")
    private let served = Mutex<ServedModel?>(nil)
    /// Raised when an audit record cannot be written; from then on requests are refused (nothing goes unrecorded).
    private let auditFailure = Mutex<String?>(nil)

    public init(options: Options) {
        self.options = options
    }

    /// Makes the model available; until then every route but /health answers 503 and /health says it is loading.
    public func serve(_ model: ServedModel) { served.withLock { $0 = model } }

    public var model: ServedModel? { served.withLock { $0 } }

    /// One request as it is served: its id and start, and its audit record as it is built.
    struct Record: Sendable {
        var id = "req-" + (0..<12).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        var started = Date()
        var entry = AuditRecord()
        /// False for /health and for refusals for rate, which are counted (and summarised) instead.
        var audited = true
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var record = Record()
        record.entry = AuditRecord(time: ISO8601DateFormatter.withMilliseconds.string(from: record.started), requestId: record.id,
                                   client: request.peer, method: request.method, route: Self.route(request.path))
        var response: HTTPResponse
        do {
            response = try route(request, &record)
        } catch {
            response = error.response
        }
        response.headers.append(("X-Request-Id", record.id))
        // a stream finishes its request when it ends, through the same `finish`
        guard case .bytes = response.body else { return response }
        guard finish(&record, status: response.status) else {
            return APIError.unavailable("the audit log cannot be written; the request was not served").response
        }
        return response
    }

    /// Finishes a request, whole or streamed, in one place: its status and latency go into its record, the request
    /// is counted, and the record is written and synced. False when the record could not be written: the caller
    /// then sends no answer that would claim it was served.
    func finish(_ record: inout Record, status: Int) -> Bool {
        record.entry.status = status
        record.entry.latencyMs = Int(Date().timeIntervalSince(record.started) * 1000)
        metrics.request(route: record.entry.route ?? "?", status: status)
        return !record.audited || audit(record.entry)
    }

    @discardableResult
    func audit(_ record: AuditRecord) -> Bool {
        guard let log = options.audit else { return true }
        // a log that failed takes nothing until a restart: its own 503s are not offered to it
        guard auditFailure.withLock({ $0 }) == nil else { return false }
        do {
            try log.append(record)
            return true
        } catch {
            auditFailure.withLock { $0 = error.description }
            return false
        }
    }

    /// The route label for metrics and the audit log: known paths as they are, the rest as "other".
    static func route(_ path: String) -> String {
        if path.hasPrefix("/v1/models/") { return "/v1/models/{id}" }
        return ["/health", "/metrics", "/v1/models", "/v1/completions", "/v1/chat/completions", "/tokenize", "/detokenize"].contains(path)
            ? path : "other"
    }

    private func route(_ request: HTTPRequest, _ record: inout Record) throws(APIError) -> HTTPResponse {
        let path = request.path
        if path == "/health" {
            try admitHealthCheck(request, &record)
            guard request.method == "GET" || request.method == "HEAD" else { throw Self.methodNotAllowed("GET") }
            if let failure = auditFailure.withLock({ $0 }) { return APIError.unavailable("the audit log failed: \(failure)").response }
            return model == nil
                ? HTTPResponse.text(503, #"{"status":"loading"}"#, contentType: "application/json", headers: [("Retry-After", "1")])
                : HTTPResponse.text(200, #"{"status":"ok"}"#, contentType: "application/json")
        }
        try admitCaller(request, &record)
        if let failure = auditFailure.withLock({ $0 }) { throw .unavailable("the audit log failed: \(failure)") }
        guard let model else { throw .unavailable("the model is still loading") }
        record.entry.model = model.id
        switch path {
        case "/v1/models":
            guard request.method == "GET" else { throw Self.methodNotAllowed("GET") }
            return Self.json(200, ["object": "list", "data": [Self.describe(model)]])
        case _ where path.hasPrefix("/v1/models/"):
            guard request.method == "GET" else { throw Self.methodNotAllowed("GET") }
            let id = String(path.dropFirst("/v1/models/".count)).removingPercentEncoding ?? ""
            guard id == model.id else { throw .notFound("the model '\(id)' does not exist", code: "model_not_found") }
            return Self.json(200, Self.describe(model))
        case "/metrics":
            guard request.method == "GET" else { throw Self.methodNotAllowed("GET") }
            let statistics = model.scheduler.statistics
            let policy = options.policy.map { store in
                let (policy, reload) = store.current()
                if let reload { policyReloaded(reload, policy: policy) }
                return Metrics.PolicyStatus(sha256: policy.sha256, reloadFailures: store.reloadFailures)
            }
            return .text(200, metrics.render(queued: statistics.queued, active: statistics.active, cachedTokens: statistics.cachedTokens,
                                             cacheCapacity: statistics.cacheCapacity, parallel: model.scheduler.configuration.parallel,
                                             policy: policy),
                         contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/v1/completions", "/v1/chat/completions":
            guard request.method == "POST" else { throw Self.methodNotAllowed("POST") }
            return try complete(request, chat: path == "/v1/chat/completions", model: model, record: &record)
        case "/tokenize", "/detokenize":
            guard request.method == "POST" else { throw Self.methodNotAllowed("POST") }
            return try path == "/tokenize" ? tokenize(request, model: model) : detokenize(request, model: model)
        default:
            throw .notFound("no route \(request.method) \(path)")
        }
    }

    static func methodNotAllowed(_ allowed: String) -> APIError {
        APIError(status: 405, message: "this route takes \(allowed)", type: "invalid_request_error", param: nil, code: nil,
                 headers: [("Allow", allowed)])
    }

    static func describe(_ model: ServedModel) -> [String: Any] {
        ["id": model.id, "object": "model", "created": model.created, "owned_by": "inference-server"]
    }

    static func json(_ status: Int, _ object: Any, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(JSONBody.encode(object)))
    }
}

extension ISO8601DateFormatter {
    /// `2026-12-01T09:39:14.123Z`.
    static var withMilliseconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
