import Guardrails
import Foundation
import InferenceEngine

/// The guardrail policy and the quotas in a completion: input rules before the prompt is built, the quota reserved
/// before generation starts, output rules on the answer (whole, or streamed through a hold-back window), and each
/// decision in the request's audit record and in the metrics.
extension OpenAIService {
    /// The policy's part in one request.
    struct Guardrails {
        let policy: GuardrailPolicy
        let profile: GuardrailPolicy.Profile
        let input: GuardrailFilter
        let output: GuardrailFilter
        var placeholders = Placeholders()
        var trace = GuardrailTrace()
        var elapsed: Duration = .zero
        /// The CPU time the request's patterns may take in all.
        let clock = PatternClock(budget: .milliseconds(GuardrailFilter.requestBudgetMs))

        init(policy: GuardrailPolicy, identity: String) {
            self.policy = policy
            profile = policy.profile(for: identity)
            input = GuardrailFilter(profile: profile, direction: .input)
            output = GuardrailFilter(profile: profile, direction: .output)
        }

        /// `text` as the model may see it; throws the 400 of a blocking rule.
        mutating func filterInput(_ text: String, param: String) throws(APIError) -> String {
            // the request's placeholders go in apart from the rest of it, which the call changes too
            var masked = placeholders
            defer { placeholders = masked }
            return try judgeInput(text, param: param, placeholders: &masked)
        }

        /// A stop sequence as the input rules judge it: blocked like the prompt, or masked for the audit log only
        /// (the model's raw text is what a stop sequence is matched against), on placeholders of its own.
        mutating func filterStop(_ text: String) throws(APIError) -> String {
            var scratch = Placeholders()
            return try judgeInput(text, param: "stop", placeholders: &scratch)
        }

        private mutating func judgeInput(_ text: String, param: String, placeholders: inout Placeholders) throws(APIError) -> String {
            guard !input.isEmpty else { return text }
            let start = ContinuousClock.now
            let outcome = input.filter(text, placeholders: &placeholders, clock: clock)
            elapsed += ContinuousClock.now - start
            trace.add(outcome.decisions)
            if let rule = outcome.blockedBy { throw Self.blocked(rule, outcome.decisions, .input, param: param, unjudged: outcome.unjudgedReason) }
            return outcome.text
        }

        /// A whole answer: the model's text after the output rules (what the audit log keeps), and the caller's
        /// (with the request's own values restored when the profile pseudonymizes); throws when a rule blocks it.
        mutating func filterOutput(_ text: String) throws(APIError) -> (model: String, caller: String) {
            var judged = text
            if !output.isEmpty {
                let start = ContinuousClock.now
                let outcome = output.filter(text, placeholders: &placeholders, clock: clock)
                elapsed += ContinuousClock.now - start
                trace.add(outcome.decisions)
                if let rule = outcome.blockedBy { throw Self.blocked(rule, outcome.decisions, .output, param: nil, unjudged: outcome.unjudgedReason) }
                judged = outcome.text
            }
            return (judged, restored(judged))
        }

        func restored(_ text: String) -> String { profile.pseudonymize ? placeholders.restore(text) : text }

        /// The stream's guard, when output rules act or values are to be restored (placeholders must not be cut).
        var streamGuard: StreamGuard? {
            output.isEmpty && !(profile.pseudonymize && !placeholders.values.isEmpty) ? nil
                : StreamGuard(filter: output, window: profile.streamWindow, clock: clock)
        }

        /// The time the request's rules took, in seconds.
        var seconds: Double { Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18 }

        var audit: AuditRecord.AuditGuardrails {
            AuditRecord.AuditGuardrails(policy: policy.sha256, profile: profile.name, decisions: trace.decisions.isEmpty ? nil : trace.decisions,
                                        microseconds: Int(seconds * 1_000_000))
        }

        /// The 400 of a blocking rule: what it found (a count, never the text), or why it could not judge the text.
        static func blocked(_ rule: String, _ decisions: [GuardrailDecision], _ direction: GuardrailPolicy.Direction, param: String?,
                            unjudged: String? = nil) -> APIError {
            let count = decisions.first { $0.rule == rule }?.count ?? 1
            let what = direction == .input ? "the request was refused" : "the answer was withheld"
            let place = direction == .input ? "prompt" : "answer"
            let why = unjudged.map { "rule '\(rule)' could not judge the \(place): \($0)" }
                ?? "rule '\(rule)' found \(count) match\(count == 1 ? "" : "es") in the \(place)"
            return APIError(status: 400, message: "\(what) by the guardrail policy: \(why)", type: "invalid_request_error", param: param,
                            code: "guardrail_blocked")
        }
    }

    /// The request's guardrails under the policy in force (re-read first when it changed), or nil without a policy.
    func guardrails(for identity: String?) -> Guardrails? {
        guard let store = options.policy else { return nil }
        let (policy, reload) = store.current()
        if let reload { policyReloaded(reload, policy: policy) }
        return Guardrails(policy: policy, identity: identity ?? "")
    }

    /// A re-read of the policy: in the audit log (which policy judged what is part of the record) and reported.
    func policyReloaded(_ reload: GuardrailPolicyStore.Reload, policy: GuardrailPolicy) {
        var record = AuditRecord(time: ISO8601DateFormatter.withMilliseconds.string(from: Date()))
        switch reload {
        case .loaded(let sha256):
            record.event = "guardrail policy loaded"
            record.guardrails = AuditRecord.AuditGuardrails(policy: sha256)
        case .rejected(let message):
            record.event = "guardrail policy edit rejected"
            record.guardrails = AuditRecord.AuditGuardrails(policy: policy.sha256, rejected: message)
        }
        audit(record)
        options.onPolicyReload?(reload)
    }

    /// Reserves the request's most tokens against its identity's quotas; throws the 429 of the limit that refuses.
    func reserveQuota(_ guardrails: Guardrails?, tokens: Int, record: inout Record) throws(APIError) -> QuotaHold? {
        guard let ledger = options.quotas, let limits = guardrails?.profile.quotas, !limits.isEmpty else { return nil }
        switch ledger.reserve(identity: record.entry.identity ?? "", requestId: record.id, tokens: tokens, limits: limits) {
        case .success(let reservation):
            return QuotaHold(ledger: ledger, reservation: reservation)
        case .failure(let refusal):
            metrics.quotaRefused(limit: refusal.limit)
            record.entry.quotaLimit = refusal.limit
            let retry = refusal.retryAfter.map { "; retry in \($0) s" } ?? ""
            throw APIError(status: 429, message: "quota '\(refusal.limit)' (\(refusal.value)) reached: \(refusal.message)\(retry)",
                           type: "rate_limit_error", param: nil,
                           code: refusal.retryAfter == nil ? "quota_request_too_large" : "quota_exceeded",
                           headers: refusal.retryAfter.map { [("Retry-After", String($0))] } ?? [])
        }
    }

    /// The guardrails' part of the record and the metrics, once the request's rules have all run.
    func recordGuardrails(_ guardrails: Guardrails?, _ record: inout Record) {
        guard let guardrails else { return }
        record.entry.guardrails = guardrails.audit
        metrics.guardrails(guardrails.trace.decisions, seconds: guardrails.seconds)
    }
}
