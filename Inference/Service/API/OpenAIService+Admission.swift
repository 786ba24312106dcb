import Foundation

/// Who may make a request, and how often. /health has its own budget per address and is never audited (it is
/// counted in the metrics). Every other route authenticates first; a request without a valid key spends a small
/// budget of its address's own and one shared by every address (so a flood of bad keys cannot spend a real
/// caller's budget, nor, from many addresses, write more than a bounded number of audit records a second), and an
/// authenticated one the budget of its identity (`--rate-limit`; with `--no-auth`, of its address). A request refused for rate
/// is not audited by itself: it is counted in the metrics and in the refusal tally, which is written to the audit
/// log as one summary record at a time.
extension OpenAIService {
    /// The rate budgets, by what they are counted against.
    enum Budget: String {
        case health, unauthenticated, identity, address
        case anyUnauthenticated = "unauthenticated-total"
    }

    /// A call to /health, whatever its method: counted, not audited, within its address's budget.
    func admitHealthCheck(_ request: HTTPRequest, _ record: inout Record) throws(APIError) {
        record.audited = false
        metrics.healthCheck()
        if let limiter = options.healthLimiter { try spend(limiter, .health, request.clientAddress, &record) }
    }

    /// Authenticates the caller (naming it in the record) and spends its budget.
    func admitCaller(_ request: HTTPRequest, _ record: inout Record) throws(APIError) {
        let address = request.clientAddress
        guard let keys = options.keys else {
            record.entry.identity = "anonymous (--no-auth)"
            if let limiter = options.rateLimiter { try spend(limiter, .address, address, &record) }
            return
        }
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer "),
              let identity = keys.identity(forKey: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            if let limiter = options.unauthenticatedLimiter { try spend(limiter, .unauthenticated, address, &record) }
            if let limiter = options.unauthenticatedTotalLimiter { try spend(limiter, .anyUnauthenticated, "every address", &record) }
            throw .unauthorized
        }
        record.entry.identity = identity
        if let limiter = options.rateLimiter { try spend(limiter, .identity, identity, &record) }
    }

    private func spend(_ limiter: RateLimiter, _ budget: Budget, _ caller: String, _ record: inout Record) throws(APIError) {
        let (admitted, retryAfter) = limiter.admit(caller)
        guard !admitted else { return }
        record.audited = false
        metrics.rateLimited(budget: budget.rawValue)
        if let summary = refusals.add("\(budget.rawValue) \(caller)") { audit(summary) }
        let whose = switch budget {
        case .health: "/health calls from \(caller)"
        case .unauthenticated: "requests without a valid API key from \(caller)"
        case .anyUnauthenticated: "requests without a valid API key (from every address together)"
        case .identity: "requests from \(caller)"
        case .address: "requests from \(caller)"
        }
        throw .rateLimited(retryAfter: retryAfter, "too many \(whose); retry in \(max(1, retryAfter)) s")
    }

    /// Records a request the HTTP layer refused before routing it (`HTTPServer.Configuration.onRefusal`): framing
    /// two parsers could read differently, a head or body too large, too slow. Such a request carries no key that
    /// could be trusted, so it is audited as an unauthenticated refusal is: one record each within the budget of its
    /// address (and the one all addresses share) that requests without a valid key spend, beyond it counted in a
    /// summary, so that malformed requests cannot turn into a flood of synced records either.
    public func recordRefusal(_ refusal: HTTPRefusal) {
        let route = refusal.path.map(Self.route) ?? "unparsed"
        metrics.request(route: route, status: refusal.status)
        let address = refusal.clientAddress
        for (limiter, caller) in [(options.unauthenticatedLimiter, address), (options.unauthenticatedTotalLimiter, "every address")] {
            guard let limiter, !limiter.admit(caller).0 else { continue }
            if let summary = unrecordedRefusals.add("\(refusal.status) \(address)") { audit(summary) }
            return
        }
        let record = Record()
        audit(AuditRecord(time: ISO8601DateFormatter.withMilliseconds.string(from: record.started), requestId: record.id, client: refusal.peer,
                          method: refusal.method ?? "unparsed", route: route, status: refusal.status, latencyMs: 0,
                          error: String(refusal.message.prefix(512))))
    }

    /// Writes the summaries of the refusals counted since the last ones (at shutdown, so none is lost).
    public func flushRefusals() {
        if let summary = refusals.drain() { audit(summary) }
        if let summary = unrecordedRefusals.drain() { audit(summary) }
    }
}
