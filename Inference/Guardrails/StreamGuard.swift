/// Output rules over a streamed answer. Text is held back until what follows it is known: at least the window's
/// bytes, the whole of a run of characters without white space still being written (an address, a key, a token,
/// a placeholder to restore), and the whole of any finding that reaches into the last window (a private key until
/// its END line). So a value is judged whole before any of it leaves, however the model's pieces cut it, and what
/// a chunk waits for is bounded: the window and half of it (the text is judged each time half a window has come),
/// or a run without white space up to `maximumHeld` bytes (8 KiB: a JWT, a 4096-bit RSA key in PEM).
public struct StreamGuard: Sendable {
    let filter: GuardrailFilter
    let window: Int
    /// Past this many bytes held, text goes out judged as it stands (a run this long without white space is not a
    /// value a window was meant to hold whole).
    static let maximumHeld = 8 * 1024
    /// Released text kept as the left context of the next scan (the keyword an AWS secret key needs within 48 bytes before it, a word's boundary).
    static let context = 64

    private var released: [UInt8] = []
    private var held: [UInt8] = []
    /// Bytes come since the text was last judged: judging every piece would cost a scan per token.
    private var unjudged = 0
    public private(set) var trace = GuardrailTrace()
    /// The rule that blocked the answer, once one has.
    public private(set) var blockedBy: String?
    /// Why, when the rule blocked because it could not judge the text (rather than because it found something).
    public private(set) var unjudgedReason: String?

    /// `window` is raised to the longest listed phrase: a phrase must fit in what is held to be judged whole.
    let clock: PatternClock?

    public init(filter: GuardrailFilter, window: Int, clock: PatternClock? = nil) {
        self.filter = filter
        self.window = max(window, filter.longestPhrase + 1)
        self.clock = clock
    }

    /// Takes the model's next piece; returns the text that may go to the caller now (possibly empty). Once a rule
    /// blocks, `blockedBy` names it and nothing more is released.
    public mutating func push(_ piece: String, placeholders: inout Placeholders) -> String {
        guard blockedBy == nil else { return "" }
        held += Array(piece.utf8)
        unjudged += piece.utf8.count
        // a long run without white space is judged less often as it grows (at most every KiB, so that what is held
        // does not pass `maximumHeld` by much), so judging it stays near linear in its length
        guard unjudged >= max(16, window / 2, min(held.count / 4, 1024)) else { return "" }
        unjudged = 0
        return release(final: false, placeholders: &placeholders)
    }

    /// Everything still held, judged as the end of the answer.
    public mutating func finish(placeholders: inout Placeholders) -> String {
        guard blockedBy == nil else { return "" }
        return release(final: true, placeholders: &placeholders)
    }

    private mutating func release(final: Bool, placeholders: inout Placeholders) -> String {
        // the context starts on a character: a cut character would decode to U+FFFD, and the findings' offsets in
        // the decoded text would then miss the bytes they stand for
        var left = released.suffix(Self.context)
        while let first = left.first, first & 0xC0 == 0x80 { left = left.dropFirst() }
        let scanned = Array(left) + held
        let text = String(decoding: scanned, as: UTF8.self)
        let offset = left.count
        let findings = filter.findings(in: text, from: offset, clock: clock)
        if findings.contains(where: { filter.rules[$0.rule].action(filter.direction) == .block }) {
            let outcome = filter.apply(findings, to: text, placeholders: &placeholders)
            trace.add(outcome.decisions)
            blockedBy = outcome.blockedBy
            held = []
            return ""
        }
        if let unjudged = findings.first(where: \.unjudged) {
            trace.add([filter.decision(unjudged)])
            blockedBy = filter.rules[unjudged.rule].name
            unjudgedReason = unjudged.reason
            held = []
            return ""
        }
        guard var cut = final ? scanned.count : releasePoint(scanned, from: offset, findings: findings) else {
            held = []
            return ""
        }
        while cut > offset, cut < scanned.count, scanned[cut] & 0xC0 == 0x80 { cut -= 1 }
        guard cut > offset else { return "" }
        let judged = findings.filter { $0.range.upperBound <= cut }
        let part = String(decoding: scanned[offset..<cut], as: UTF8.self)
        let shifted = judged.map { GuardrailFilter.Finding(rule: $0.rule, range: ($0.range.lowerBound - offset)..<($0.range.upperBound - offset)) }
        let outcome = filter.apply(shifted, to: part, placeholders: &placeholders)
        trace.add(outcome.decisions)
        released = Array((released + scanned[offset..<cut]).suffix(Self.context))
        held = Array(scanned[cut...])
        return outcome.text
    }

    /// Where the text that may go now ends: a window before the end, and before any run still being written or
    /// finding that reaches into the window. Past `maximumHeld`, a window before the end whatever the run, a finding
    /// across that point going out whole (masked); nil, having blocked, when a finding runs from the start of what is
    /// held to its end (a key with no END line followed by more than the window can hold: it cannot be judged whole).
    private mutating func releasePoint(_ bytes: [UInt8], from offset: Int, findings: [GuardrailFilter.Finding]) -> Int? {
        var cut = max(offset, bytes.count - window)
        // never inside a run without white space: a placeholder to restore, an address, a key go out whole
        while cut > offset, !Self.isSpace(bytes[cut - 1]), cut == bytes.count || !Self.isSpace(bytes[cut]) { cut -= 1 }
        for finding in findings where finding.range.upperBound > cut { cut = min(cut, finding.range.lowerBound) }
        guard cut == offset, bytes.count - offset > Self.maximumHeld else { return cut }
        cut = bytes.count - window
        for finding in findings where finding.range.lowerBound < cut && finding.range.upperBound > cut {
            guard finding.range.upperBound < bytes.count else {
                trace.add([filter.decision(finding)])
                blockedBy = filter.rules[finding.rule].name
                unjudgedReason = "a value that runs past the \(Self.maximumHeld) bytes a stream can hold back"
                return nil
            }
            cut = finding.range.upperBound
        }
        return cut
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
}
