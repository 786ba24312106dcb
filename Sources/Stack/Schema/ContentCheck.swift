import Foundation
import Guardrails

/// What an uploaded file can be required to be, checked when the stack is planned: a file the node would refuse
/// stops the plan with its own line and column, before anything is touched.
public enum ContentCheck {
    /// The most a checked file may hold.
    public static let maximumSize = 1 << 20

    /// The checks by the name a resource's `check` property gives.
    static let all: [String: @Sendable (Data, String) throws(EvaluationFailure) -> Void] = [
        "guardrail_policy": { data, path throws(EvaluationFailure) in
            guard let text = String(data: data, encoding: .utf8) else { throw EvaluationFailure("is not UTF-8 text") }
            do {
                _ = try GuardrailPolicyParser.parse(text, file: path)
            } catch {
                throw EvaluationFailure("is not a guardrail policy inference-server accepts: \(error)")
            }
        },
    ]

    static var names: [String] { all.keys.sorted() }
}

extension ResourceSchema {
    /// The schema with `checks` selectable by its `check` property.
    func checking(_ checks: [String: @Sendable (Data, String) throws(EvaluationFailure) -> Void]) -> ResourceSchema {
        var schema = self
        schema.contentChecks = checks
        return schema
    }
}
