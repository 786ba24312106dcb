import Compliance
import Plan
import Stack

/// The compliance rules over the stack as planned, with the state's ids and ARNs where it records them: what
/// `check --plan` reports, what `plan` shows above the plan, and what `apply` refuses on.
public enum PlanCompliance {
    public static func evaluate(_ loaded: LoadedStack, state: State?) -> Evaluation {
        var known: [String: [String: Value]] = [:]
        for resource in state?.resources ?? [] where resource.status == .created { known[resource.address.description] = resource.attributes }
        let inventory = Inventory(planned: loaded.expanded, configuration: loaded.configuration, known: known)
        return Evaluation(inventory, suppressions: loaded.stack.suppressions)
    }
}
