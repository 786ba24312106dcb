import Stack
import TextSafety

/// The stack's suppressions must name a rule that exists and a resource the stack declares: a typo would otherwise
/// silence nothing, or the wrong thing.
public enum SuppressionCheck {
    public static func check(_ configuration: StackConfiguration) throws(StackError) {
        let blocks = Set(configuration.orderedBlocks.map { "\($0.phase.rawValue).\($0.name)" })
        let ids = RuleCatalog.all.map(\.id)
        for suppression in configuration.stack.suppressions {
            guard ids.contains(suppression.rule) else {
                throw StackError(Suggestion.message("suppression of unknown rule '\(SafeText.quoted(suppression.rule))'",
                                                    for: suppression.rule, among: ids), at: suppression.location)
            }
            let block = String(suppression.address.prefix { $0 != "[" })
            guard blocks.contains(block) else {
                throw StackError(Suggestion.message("suppression of '\(SafeText.quoted(suppression.address))', which the stack does not declare",
                                                    for: block, among: blocks.sorted()), at: suppression.location)
            }
        }
    }
}
