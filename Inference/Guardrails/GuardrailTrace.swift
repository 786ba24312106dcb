/// The decisions of a request, one per rule and direction however many texts (messages, stream windows) it judged.
public struct GuardrailTrace: Sendable {
    public private(set) var decisions: [GuardrailDecision] = []

    public init() {}

    public mutating func add(_ more: [GuardrailDecision]) {
        for decision in more {
            if let index = decisions.firstIndex(where: { $0.rule == decision.rule && $0.direction == decision.direction && $0.action == decision.action }) {
                decisions[index].count += decision.count
                if let matches = decision.matches { decisions[index].matches = (decisions[index].matches ?? []) + matches }
            } else {
                decisions.append(decision)
            }
        }
    }
}
