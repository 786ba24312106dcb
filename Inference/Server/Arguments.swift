import Foundation

/// A command's flags: `--name value` pairs and bare switches, checked against what the command accepts.
struct Arguments {
    let command: String
    private var values: [String: [String]] = [:]
    private var switches: Set<String> = []

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `arguments` (after the command) given the flags that take a value and the bare switches.
    init(_ command: String, _ arguments: [String], valued: Set<String>, switches allowed: Set<String>) throws(Invalid) {
        self.command = command
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            if allowed.contains(flag) {
                switches.insert(flag)
                index += 1
            } else if valued.contains(flag) {
                guard index + 1 < arguments.count else { throw Invalid(description: "\(command): \(flag) needs a value") }
                values[flag, default: []].append(arguments[index + 1])
                index += 2
            } else {
                let known = (valued.union(allowed)).sorted().joined(separator: " ")
                throw Invalid(description: "\(command): unknown option '\(flag)' (known: \(known))")
            }
        }
    }

    func has(_ flag: String) -> Bool { switches.contains(flag) }

    func string(_ flag: String) -> String? { values[flag]?.last }

    func strings(_ flag: String) -> [String] { values[flag] ?? [] }

    func required(_ flag: String) throws(Invalid) -> String {
        guard let value = string(flag) else { throw Invalid(description: "\(command) needs \(flag)") }
        return value
    }

    func int(_ flag: String, default fallback: Int, range: ClosedRange<Int> = 0...Int.max) throws(Invalid) -> Int {
        guard let text = string(flag) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw Invalid(description: "\(command): \(flag) must be an integer in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
        }
        return value
    }

    func float(_ flag: String, default fallback: Float, range: ClosedRange<Float>) throws(Invalid) -> Float {
        guard let text = string(flag) else { return fallback }
        guard let value = Float(text), range.contains(value) else {
            throw Invalid(description: "\(command): \(flag) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(text)'")
        }
        return value
    }
}
