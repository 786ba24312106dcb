/// What a regular expression's shape says about its running time on a text made to be slow for it. ICU backtracks
/// and cannot be given a time limit through Foundation; a repeated group that itself repeats (`(a+)+`) takes time
/// exponential in the text and is refused, and a repeated group or two unbounded repetitions (`(a|ab)+`,
/// `\d*\d*`) can take polynomial time or worse, so such a pattern runs against a clock.
struct PatternShape {
    /// A quantified group holding a quantifier.
    private(set) var nestsRepetition = false
    /// A quantified group, or more than one unbounded repetition (`*`, `+`, `{n,}`).
    private(set) var mayBacktrack = false

    init(_ pattern: String) {
        let characters = Array(pattern)
        // per open group: whether something inside it repeats
        var groups: [Bool] = []
        var unbounded = 0
        var quantifiedGroup = false
        /// Reads the quantifier at `position`, if any (with a lazy or possessive suffix), counting it against the
        /// enclosing group; returns where what follows it starts, and whether it repeats (`?` does not).
        func quantifier(at position: Int) -> (next: Int, repeats: Bool) {
            guard position < characters.count else { return (position, false) }
            var next = position + 1
            var isUnbounded = false
            switch characters[position] {
            case "*", "+": isUnbounded = true
            case "?": break
            case "{":
                guard let close = characters[position...].firstIndex(of: "}") else { return (position, false) }
                // {n,} has no bound; {n,m} with a large m backtracks like one
                let bounds = String(characters[(position + 1)..<close]).split(separator: ",", omittingEmptySubsequences: false)
                isUnbounded = bounds.count == 2 && (bounds[1].isEmpty || (Int(bounds[1]) ?? Int.max) > 16)
                next = close + 1
            default: return (position, false)
            }
            if next < characters.count, characters[next] == "?" || characters[next] == "+" { next += 1 }
            let repeats = characters[position] != "?"
            if isUnbounded { unbounded += 1 }
            if repeats, !groups.isEmpty { groups[groups.count - 1] = true }
            return (next, repeats)
        }
        var index = 0
        var inClass = false
        while index < characters.count {
            let character = characters[index]
            if inClass {
                if character == "\\" {
                    index += 2
                } else {
                    if character == "]" { inClass = false }
                    index += 1
                    if !inClass { index = quantifier(at: index).next }
                }
                continue
            }
            switch character {
            case "\\": index = quantifier(at: Self.escapeEnd(characters, index)).next
            case "[":
                inClass = true
                index += 1
                // a "]" first in a class is a member of it
                if index < characters.count, characters[index] == "^" { index += 1 }
                if index < characters.count, characters[index] == "]" { index += 1 }
            case "(":
                groups.append(false)
                index += 1
                if index < characters.count, characters[index] == "?" { index += 1 }
            case ")":
                let inner = groups.popLast() ?? false
                let (next, repeats) = quantifier(at: index + 1)
                if repeats {
                    quantifiedGroup = true
                    if inner { nestsRepetition = true }
                }
                if inner, !groups.isEmpty { groups[groups.count - 1] = true }
                index = next
            case "|": index += 1
            default: index = quantifier(at: index + 1).next
            }
        }
        mayBacktrack = quantifiedGroup || unbounded > 1
    }

    /// Where the escape starting at `start` (a backslash) ends: `\p{L}`, `\x{41}`, `\N{...}` run to their brace,
    /// `\Q...\E` to its end, others are two characters.
    static func escapeEnd(_ characters: [Character], _ start: Int) -> Int {
        let letter = start + 1 < characters.count ? characters[start + 1] : " "
        if "pPxN".contains(letter), start + 2 < characters.count, characters[start + 2] == "{",
           let close = characters[(start + 2)...].firstIndex(of: "}") {
            return close + 1
        }
        if letter == "Q" {
            var index = start + 2
            while index + 1 < characters.count, !(characters[index] == "\\" && characters[index + 1] == "E") { index += 1 }
            return min(characters.count, index + 2)
        }
        return start + 2
    }
}
