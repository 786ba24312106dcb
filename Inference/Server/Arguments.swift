import Foundation
import TextSafety
import InferenceEngine
import Diagnostics

/// A command's flags: `--name value` or `--name=value` pairs, llama.cpp's short forms (`-m`, `-p`, `-n`, `-t`, …)
/// and bare switches, checked against what the command accepts. `-h` or `--help` asks for the command's usage.
struct Arguments {
    let command: String
    private var values: [String: [String]] = [:]
    private var switches: Set<String> = []

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// `-h` or `--help` was given: the caller prints `usage` and exits 0.
    struct HelpRequested: Error {
        var usage: String
    }

    /// Parses `arguments` (after the command) given the flags that take a value, the bare switches, and short
    /// aliases (`-m` for `--model`); `usage` is what `--help` shows.
    init(_ command: String, _ arguments: [String], valued: Set<String>, switches allowed: Set<String>,
         aliases: [String: String] = [:], usage: String) throws {
        self.command = command
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            var inlineValue: String?
            if flag.hasPrefix("--"), let equals = flag.firstIndex(of: "=") {
                inlineValue = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            flag = aliases[flag] ?? flag
            if flag == "-h" || flag == "--help" { throw HelpRequested(usage: usage) }
            if allowed.contains(flag) {
                guard inlineValue == nil else { throw Invalid(description: "\(command): \(flag) takes no value") }
                switches.insert(flag)
                index += 1
            } else if valued.contains(flag) {
                if let inlineValue {
                    values[flag, default: []].append(inlineValue)
                    index += 1
                } else {
                    guard index + 1 < arguments.count else { throw Invalid(description: "\(command): \(flag) needs a value") }
                    values[flag, default: []].append(arguments[index + 1])
                    index += 2
                }
            } else {
                let known = (valued.union(allowed)).sorted().joined(separator: " ")
                throw Invalid(description: "\(command): unknown option '\(SafeText.quoted(flag))' (known: \(known))")
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
            throw Invalid(description: "\(command): \(flag) must be an integer in \(range.lowerBound)...\(range.upperBound), not '\(SafeText.quoted(text))'")
        }
        return value
    }

    /// `--kernels portable|avx2|avx512`, which this CPU must run; `KernelSet.detected` when absent.
    func kernels() throws(Invalid) -> KernelSet {
        guard let text = string("--kernels") else { return .detected }
        guard let kernels = KernelSet(rawValue: text) else {
            throw Invalid(description: "\(command): --kernels is portable, avx2 or avx512, not '\(SafeText.quoted(text))'")
        }
        guard kernels.isAvailable else {
            throw Invalid(description: "\(command): --kernels \(text) needs an instruction set this CPU lacks; it runs \(KernelSet.available.map(\.rawValue).joined(separator: ", "))")
        }
        return kernels
    }

    /// `--attention exact|flash`; `.exact` when absent.
    func attention() throws(Invalid) -> AttentionMode {
        guard let text = string("--attention") else { return .exact }
        guard let mode = AttentionMode(rawValue: text) else {
            throw Invalid(description: "\(command): --attention is exact or flash, not '\(SafeText.quoted(text))'")
        }
        return mode
    }

    func float(_ flag: String, default fallback: Float, range: ClosedRange<Float>) throws(Invalid) -> Float {
        guard let text = string(flag) else { return fallback }
        guard let value = Float(text), range.contains(value) else {
            throw Invalid(description: "\(command): \(flag) must be a number in \(range.lowerBound)...\(range.upperBound), not '\(SafeText.quoted(text))'")
        }
        return value
    }
}

extension Arguments.Invalid: UserFacingError {
    var failureKind: FailureKind { .usage }
}
