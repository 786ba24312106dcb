import Guardrails
import Foundation
import Synchronization

/// The server's Prometheus metrics: requests by route and status, prompt and generated tokens, time to first token
/// and per-token latency, and the scheduler's gauges (queue depth, active sequences, KV cache use), rendered in
/// the Prometheus text exposition format.
public final class Metrics: Sendable {
    /// A histogram with fixed upper bounds, in seconds.
    struct Histogram {
        var bounds: [Double]
        var counts: [Int]
        var sum: Double = 0
        var count = 0

        init(bounds: [Double]) {
            self.bounds = bounds
            counts = Array(repeating: 0, count: bounds.count)
        }

        mutating func observe(_ value: Double) {
            for (index, bound) in bounds.enumerated() where value <= bound { counts[index] += 1 }
            sum += value
            count += 1
        }
    }

    private struct State {
        var requests: [String: Int] = [:]
        var healthChecks = 0
        var rateLimited: [String: Int] = [:]
        var promptTokens = 0
        var generatedTokens = 0
        var reusedPromptTokens = 0
        var timeToFirstToken = Histogram(bounds: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])
        var tokenLatency = Histogram(bounds: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1])
        /// rule, direction, action: requests and matches.
        var guardrailDecisions: [String: (requests: Int, matches: Int)] = [:]
        var guardrailTime = Histogram(bounds: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1])
        var quotaRefusals: [String: Int] = [:]
    }

    /// The policy in force, for /metrics.
    public struct PolicyStatus: Sendable {
        public var sha256: String
        public var reloadFailures: Int

        public init(sha256: String, reloadFailures: Int) {
            self.sha256 = sha256
            self.reloadFailures = reloadFailures
        }
    }
    private let state = Mutex(State())

    public init() {}

    /// Counts a finished request.
    public func request(route: String, status: Int) {
        state.withLock { $0.requests["\(route)\u{0}\(status)", default: 0] += 1 }
    }

    /// Counts a /health call (they are not audited one by one).
    public func healthCheck() {
        state.withLock { $0.healthChecks += 1 }
    }

    /// Counts a request refused for rate, by the budget it ran out of.
    public func rateLimited(budget: String) {
        state.withLock { $0.rateLimited[budget, default: 0] += 1 }
    }

    /// Records a generation's tokens and timings.
    public func generation(promptTokens: Int, generatedTokens: Int, reusedPromptTokens: Int, timeToFirstToken: Double, secondsPerToken: Double) {
        state.withLock { state in
            state.promptTokens += promptTokens
            state.generatedTokens += generatedTokens
            state.reusedPromptTokens += reusedPromptTokens
            state.timeToFirstToken.observe(timeToFirstToken)
            if generatedTokens > 1 { state.tokenLatency.observe(secondsPerToken) }
        }
    }

    /// Counts a request's guardrail decisions and the time its rules took.
    public func guardrails(_ decisions: [GuardrailDecision], seconds: Double) {
        state.withLock { state in
            for decision in decisions {
                let key = [decision.rule, decision.direction, decision.action].joined(separator: "\u{0}")
                let old = state.guardrailDecisions[key] ?? (0, 0)
                state.guardrailDecisions[key] = (old.requests + 1, old.matches + decision.count)
            }
            state.guardrailTime.observe(seconds)
        }
    }

    /// Counts a request refused by a quota, by the limit's name.
    public func quotaRefused(limit: String) {
        state.withLock { $0.quotaRefusals[limit, default: 0] += 1 }
    }

    /// The exposition text, with the scheduler's current figures.
    public func render(queued: Int, active: Int, cachedTokens: Int, cacheCapacity: Int, parallel: Int, policy: PolicyStatus? = nil) -> String {
        let state = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        family("inference_requests_total", "counter", "HTTP requests answered, by route and status.")
        for key in state.requests.keys.sorted() {
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false)
            out += "inference_requests_total{route=\"\(Self.label(String(parts[0])))\",status=\"\(parts[1])\"} \(state.requests[key]!)\n"
        }
        func sample(_ name: String, _ type: String, _ help: String, _ value: Int) {
            family(name, type, help)
            out += "\(name) \(value)\n"
        }
        sample("inference_health_checks_total", "counter", "Calls to /health (not written to the audit log).", state.healthChecks)
        family("inference_rate_limited_total", "counter", "Requests refused for rate (summarised in the audit log), by the budget they ran out of.")
        for budget in state.rateLimited.keys.sorted() {
            out += "inference_rate_limited_total{budget=\"\(Self.label(budget))\"} \(state.rateLimited[budget] ?? 0)\n"
        }
        sample("inference_prompt_tokens_total", "counter", "Prompt tokens of finished generations.", state.promptTokens)
        sample("inference_prompt_tokens_reused_total", "counter", "Prompt tokens taken from the cache of an earlier request.",
               state.reusedPromptTokens)
        sample("inference_generated_tokens_total", "counter", "Tokens generated.", state.generatedTokens)
        histogram(&out, "inference_time_to_first_token_seconds", "From the request's arrival to its first generated token.", state.timeToFirstToken)
        histogram(&out, "inference_token_latency_seconds", "Mean time per generated token after the first, per request.", state.tokenLatency)
        sample("inference_queue_depth", "gauge", "Requests waiting for a slot.", queued)
        sample("inference_active_sequences", "gauge", "Sequences being generated now.", active)
        sample("inference_parallel_slots", "gauge", "Sequences that can be generated at once.", parallel)
        sample("inference_kv_cache_tokens", "gauge", "Positions held in the KV caches.", cachedTokens)
        sample("inference_kv_cache_capacity_tokens", "gauge", "Positions the KV caches can hold.", cacheCapacity)
        if let policy {
            family("inference_guardrail_policy_info", "gauge", "The guardrail policy in force, by the SHA-256 of its file.")
            out += "inference_guardrail_policy_info{sha256=\"\(policy.sha256)\"} 1\n"
            sample("inference_guardrail_policy_reload_failures_total", "counter",
                   "Edits of the policy file refused (the last good policy stayed in force).", policy.reloadFailures)
            for (name, help, index) in [("inference_guardrail_requests_total", "Requests a rule acted on, by rule, direction and action.", 0),
                                        ("inference_guardrail_matches_total", "Findings of a rule, by rule, direction and action.", 1)] {
                family(name, "counter", help)
                for key in state.guardrailDecisions.keys.sorted() {
                    let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map { Self.label(String($0)) }
                    let value = state.guardrailDecisions[key]!
                    out += "\(name){rule=\"\(parts[0])\",direction=\"\(parts[1])\",action=\"\(parts[2])\"} \(index == 0 ? value.requests : value.matches)\n"
                }
            }
            histogram(&out, "inference_guardrail_seconds", "Time the policy's rules took per request (input and output).", state.guardrailTime)
            family("inference_quota_refused_total", "counter", "Requests refused by a quota, by the limit.")
            for limit in state.quotaRefusals.keys.sorted() {
                out += "inference_quota_refused_total{limit=\"\(Self.label(limit))\"} \(state.quotaRefusals[limit]!)\n"
            }
        }
        return out
    }

    private func histogram(_ out: inout String, _ name: String, _ help: String, _ histogram: Histogram) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        for (index, bound) in histogram.bounds.enumerated() { out += "\(name)_bucket{le=\"\(bound)\"} \(histogram.counts[index])\n" }
        out += "\(name)_bucket{le=\"+Inf\"} \(histogram.count)\n\(name)_sum \(histogram.sum)\n\(name)_count \(histogram.count)\n"
    }

    /// A label value escaped as the exposition format asks.
    static func label(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
