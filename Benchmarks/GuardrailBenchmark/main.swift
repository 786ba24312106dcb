import Dispatch
import Foundation
import Guardrails

// The guardrails' own cost, in process, for 16 clients' requests run concurrently (Dispatch runs them on as many
// threads as there are cores, so each time is the work's own, not a wait for a core): the shipped policy
// (every detector masking, both ways, pseudonymized) plus a word list of 200 phrases and three patterns, over
// chat-sized prompts of about 2 KB and answers of about 700 bytes that carry personal data and secrets, the
// answers streamed through the hold-back window in pieces of 1 to 6 bytes (the size of tokens). Prints p50 and
// p99 of the time the rules add per request (prompt, then the whole streamed answer) and per streamed piece.
// Target: p99 under 5 ms per request. Run in release mode:
//     swift build -c release --product guardrail-benchmark && .build/release/guardrail-benchmark [requests per thread]

let threads = 16
let requestsPerThread = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 200
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let shipped = try String(contentsOf: root.appendingPathComponent("Templates/node/guardrails.json5"), encoding: .utf8)
let phrases = (0..<200).map { "\"project codename \($0)\"" }.joined(separator: ", ")
let extra = """
      words: [ { name: "codenames", phrases: [\(phrases)], action: "mask" } ],
      patterns: [
        { name: "employee-id", regex: "EMP-[0-9]{6}", action: "mask" },
        { name: "ticket", regex: "INC[0-9]{7}", ignore_case: true, action: "log" },
        { name: "internal-host", regex: "[a-z0-9-]+\\\\.corp\\\\.example\\\\.net", action: "mask" },
      ],
      pseudonymize: true,
"""
let policyText = shipped.replacingOccurrences(of: "    pseudonymize: true,\n", with: extra)
let policy = try GuardrailPolicyParser.parse(policyText, file: "benchmark policy")
let profile = policy.defaultProfile

let paragraph = "Our team reviewed the quarterly figures and the customer asked for a summary of the open items, the renewal dates "
    + "and the contacts on file; please keep the tone formal and the answer short. "
func prompt(_ index: Int) -> String {
    var text = ""
    for part in 0..<12 {
        text += paragraph
        switch part {
        case 2: text += "Contact jane.doe\(index)@example.com or call +44 20 7946 0\(100 + index % 900). "
        case 5: text += "The card on file is 4111 1111 1111 1111 and the IBAN GB82 WEST 1234 5698 7654 32. "
        case 8: text += "Ticket INC\(1_000_000 + index) mentions project codename \(index % 200) and EMP-\(100_000 + index). "
        case 10: text += "Logs from build-\(index).corp.example.net at 10.0.\(index % 255).7 are attached. "
        default: break
        }
    }
    return text
}
func answer(_ index: Int) -> String {
    "Here is the summary you asked for. The contact is [EMAIL_1], reachable at [PHONE_1]; the renewal is due in March. "
        + "A second contact, ops\(index)@example.org, handles billing for project codename \(index % 200). "
        + "I removed the payment details. The open items are the contract review, the security questionnaire and the "
        + "invoice for the last quarter, which the finance team will send to the address on file before the end of the month. "
        + "If you need anything else, for instance the access key AKIAIOSFODNN7EXAMPLE rotated, the platform team can help."
}

/// Cuts an answer into pieces of 1 to 6 bytes of whole characters, as tokens would come.
func pieces(_ text: String, seed: Int) -> [String] {
    var out: [String] = []
    var rest = Substring(text)
    var state = UInt64(seed + 1)
    while !rest.isEmpty {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let length = Int(state >> 61) % 6 + 1
        out.append(String(rest.prefix(length)))
        rest = rest.dropFirst(length)
    }
    return out
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

final class Results: @unchecked Sendable {
    let lock = NSLock()
    var perRequest: [Double] = []
    var perChunk: [Double] = []
    var inputOnly: [Double] = []
    func add(request: Double, input: Double, chunks: [Double]) {
        lock.lock()
        perRequest.append(request)
        inputOnly.append(input)
        perChunk += chunks
        lock.unlock()
    }
}

let results = Results()
let input = GuardrailFilter(profile: profile, direction: .input)
let output = GuardrailFilter(profile: profile, direction: .output)
let clock = ContinuousClock()
let started = clock.now
DispatchQueue.concurrentPerform(iterations: threads) { thread in
    for request in 0..<requestsPerThread {
        let index = thread * requestsPerThread + request
        let text = prompt(index)
        let cut = pieces(answer(index), seed: index)
        var placeholders = Placeholders()
        let inputStart = clock.now
        let masked = input.filter(text, placeholders: &placeholders)
        let inputTime = seconds(clock.now - inputStart)
        precondition(masked.blockedBy == nil && masked.text.contains("[EMAIL_1]"))
        var stream = StreamGuard(filter: output, window: profile.streamWindow)
        var chunkTimes: [Double] = []
        chunkTimes.reserveCapacity(cut.count + 1)
        var sent = ""
        for piece in cut {
            let start = clock.now
            sent += placeholders.restore(stream.push(piece, placeholders: &placeholders))
            chunkTimes.append(seconds(clock.now - start))
        }
        let start = clock.now
        sent += placeholders.restore(stream.finish(placeholders: &placeholders))
        chunkTimes.append(seconds(clock.now - start))
        precondition(sent.contains("jane.doe\(index)@example.com") && !sent.contains("ops\(index)@"))
        results.add(request: inputTime + chunkTimes.reduce(0, +), input: inputTime, chunks: chunkTimes)
    }
}
let wall = seconds(clock.now - started)

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}
func ms(_ value: Double) -> String { String(format: "%.3f ms", value * 1000) }
let requests = results.perRequest.count
print("guardrail benchmark: \(threads) clients' requests concurrently, \(requests) requests, prompts of \(prompt(0).utf8.count) bytes, answers of "
      + "\(answer(0).utf8.count) bytes in \(results.perChunk.count / requests) pieces; policy: \(profile.rules.count) rules, "
      + "\(ProcessInfo.processInfo.activeProcessorCount) cores")
print("  per request (prompt + streamed answer): p50 \(ms(percentile(results.perRequest, 0.5)))  p99 \(ms(percentile(results.perRequest, 0.99)))"
      + "  max \(ms(results.perRequest.max() ?? 0))   target p99 < 5 ms: \(percentile(results.perRequest, 0.99) < 0.005 ? "met" : "NOT met")")
print("  prompt alone:                           p50 \(ms(percentile(results.inputOnly, 0.5)))  p99 \(ms(percentile(results.inputOnly, 0.99)))")
print("  per streamed piece:                     p50 \(ms(percentile(results.perChunk, 0.5)))  p99 \(ms(percentile(results.perChunk, 0.99)))")
print(String(format: "  throughput: %.0f requests/s of guardrail work across the threads (%.2f s wall)", Double(requests) / wall, wall))
