import Stack

/// The plan as people read it: drift first, then each phase's actions with attribute-level diffs, then the summary.
public enum PlanText {
    /// `colour`: the action symbols in ANSI colours (green create, yellow update, magenta replace, red delete), for a
    /// terminal that wants them.
    public static func render(_ plan: Plan, showUnchanged: Bool = false, colour: Bool = false) -> String {
        var lines: [String] = []
        lines.append("Stack \(plan.stack.name): account \(plan.stack.account), region \(plan.stack.region)")
        if let lineage = plan.lineage, let serial = plan.serial {
            var line = "State: lineage \(lineage), serial \(serial)"
            if plan.refresh.performed {
                line += "; refreshed \(plan.refresh.resources) resources in \(plan.refresh.apiCalls) API calls"
                if !plan.refresh.unreadTypes.isEmpty { line += " (not read: \(plan.refresh.unreadTypes.joined(separator: ", ")))" }
            } else {
                line += "; not refreshed"
            }
            lines.append(line)
        } else {
            lines.append("State: none yet (first apply)")
        }
        if !plan.drift.isEmpty {
            lines.append("")
            lines.append("Changed outside deploy since the last apply:")
            for drift in plan.drift {
                switch drift.kind {
                case .deleted: lines.append("  ! \(drift.address) (\(drift.type)) was deleted")
                case .changed:
                    lines.append("  ! \(drift.address) (\(drift.type))")
                    lines += attributeLines(drift.changes, kind: .update, indent: "      ")
                }
            }
        }
        for phase in Phase.allCases {
            let actions = plan.actions(in: phase).filter { showUnchanged || $0.kind != .noop }
            let unchanged = plan.actions(in: phase).filter { $0.kind == .noop }.count
            lines.append("")
            lines.append(unchanged > 0 && !showUnchanged ? "\(phase.rawValue) (\(unchanged) unchanged)" : phase.rawValue)
            if actions.isEmpty { lines.append("  no changes") }
            for action in actions {
                var header = "  \(colour ? coloured(action.kind) : symbol(action.kind)) \(action.address) (\(action.type))"
                if !action.replacedBecause.isEmpty, action.reason == nil {
                    header += ": replaced because \(action.replacedBecause.joined(separator: ", ")) cannot change in place"
                }
                if let reason = action.reason { header += ": \(reason)" }
                if action.protected, action.kind == .delete || action.kind == .replace { header += " [protected]" }
                lines.append(header)
                lines += attributeLines(action.changes, kind: action.kind, indent: "      ")
            }
        }
        lines.append("")
        lines.append("Plan: \(plan.summary)")
        return lines.joined(separator: "\n")
    }

    static func symbol(_ kind: PlannedAction.Kind) -> String {
        switch kind {
        case .create: "+"
        case .update: "~"
        case .replace: "-/+"
        case .delete: "-"
        case .noop: " "
        }
    }

    static func coloured(_ kind: PlannedAction.Kind) -> String {
        let code = switch kind {
        case .create: "32"
        case .update: "33"
        case .replace: "35"
        case .delete: "31"
        case .noop: "0"
        }
        return "\u{1B}[\(code)m\(symbol(kind))\u{1B}[0m"
    }

    private static func attributeLines(_ changes: [AttributeChange], kind: PlannedAction.Kind, indent: String) -> [String] {
        let expanded = changes.flatMap(splitMaps)
        let width = min(32, expanded.map(\.name.count).max() ?? 0)
        var lines: [String] = []
        for change in expanded {
            let name = change.name.padding(toLength: max(width, change.name.count), withPad: " ", startingAt: 0)
            let continuation = indent + String(repeating: " ", count: name.count + 3)
            let after = show(change.after, sensitive: change.sensitive, indent: continuation)
            var text: [String]
            if kind == .create || (kind == .replace && change.before == nil && !change.sensitive) {
                text = after
            } else {
                let before = show(change.before, sensitive: change.sensitive, indent: continuation)
                text = before.dropLast() + ["\(before.last ?? "") -> \(after[0])"] + after.dropFirst()
            }
            text[0] = "\(indent)\(name) = \(text[0])"
            if change.forcesReplacement { text[text.count - 1] += "  # forces replacement" }
            lines += text
        }
        return lines
    }

    /// An update of a plain map (tags) is shown key by key; everything else as a whole.
    private static func splitMaps(_ change: AttributeChange) -> [AttributeChange] {
        guard !change.sensitive, case .map(let before)? = change.before, case .map(let after)? = change.after,
              before["Statement"] == nil, after["Statement"] == nil else { return [change] }
        return Set(before.keys).union(after.keys).sorted().compactMap { key in
            guard before[key] != after[key] else { return nil }
            return AttributeChange(name: "\(change.name).\(key)", before: before[key], after: after[key],
                                   forcesReplacement: change.forcesReplacement)
        }
    }

    static func show(_ value: Value?, sensitive: Bool, indent: String = "") -> [String] {
        if sensitive { return [value == .unknown ? "(sensitive, known after apply)" : "(sensitive)"] }
        guard let value else { return ["null"] }
        return ValueLayout.lines(value, indent: indent)
    }}
