/// Payment cards, IBANs, US social security numbers and phone numbers: runs of digits (and, for an IBAN, letters)
/// with their separators, each kept only when its checksum or its shape says it is one.
enum NumberDetectors {
    /// A run of digits from `start` with single spaces, dashes or dots between them (and, with `parentheses`, a first
    /// group in parentheses); the range and its digit groups. Nil when `start` is no word's start.
    static func digitRun(_ text: ScanText, from start: Int, separators: Set<UInt8>, parentheses: Bool = false) -> (Range<Int>, [Int])? {
        guard text.startsWord(start), !ScanText.isDigit(text[start - 1]) else { return nil }
        var index = start
        var groups: [Int] = []
        var current = 0
        var open = false
        if parentheses, text[index] == UInt8(ascii: "(") { open = true; index += 1 }
        while index < text.count {
            let byte = text[index]
            if ScanText.isDigit(byte) {
                current += 1
                index += 1
            } else if open, byte == UInt8(ascii: ")"), current > 0 {
                open = false
                groups.append(current)
                current = 0
                index += 1
                if text[index] == UInt8(ascii: " ") || separators.contains(text[index]) { index += 1 }
                guard ScanText.isDigit(text[index]) else { return nil }
            } else if separators.contains(byte), current > 0, ScanText.isDigit(text[index + 1]) {
                groups.append(current)
                current = 0
                index += 1
            } else {
                break
            }
        }
        guard !open, current > 0 else { return nil }
        groups.append(current)
        // a run that goes on into a letter or another digit is part of some other token
        guard text.endsWord(index), !(text[index] == UInt8(ascii: ".") && ScanText.isDigit(text[index + 1])) else { return nil }
        return (start..<index, groups)
    }

    static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            let value = position % 2 == 1 ? digit * 2 : digit
            sum += value > 9 ? value - 9 : value
        }
        return sum % 10 == 0
    }

    /// Issuer prefixes and lengths of the card networks: Luhn alone passes one random number in ten.
    static func isCardNumber(_ digits: [Int]) -> Bool {
        let number = digits.map(String.init).joined()
        func prefix(_ length: Int) -> Int { Int(number.prefix(length)) ?? -1 }
        let length = digits.count
        let known = (number.hasPrefix("4") && [13, 16, 19].contains(length))
            || ((51...55).contains(prefix(2)) || (2221...2720).contains(prefix(4))) && length == 16
            || [34, 37].contains(prefix(2)) && length == 15
            || (prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3))) && (16...19).contains(length)
            || (3528...3589).contains(prefix(4)) && (16...19).contains(length)
            || ([36, 38, 39].contains(prefix(2)) || (300...305).contains(prefix(3))) && (14...19).contains(length)
            || prefix(2) == 62 && (16...19).contains(length)
        return known && luhn(digits)
    }

    static func paymentCards(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index < text.count {
            if ScanText.isDigit(text[index]), let (range, _) = digitRun(text, from: index, separators: [0x20, UInt8(ascii: "-")]) {
                if let card = cardWithin(text, range) { found.append(SensitiveMatch(kind: .paymentCard, range: card)) }
                index = range.upperBound
            } else {
                index += 1
            }
        }
        return found
    }

    /// The card in a run of digit groups: the whole run, or else the longest span of whole groups of three digits or
    /// more that leaves out at most two groups at either end (a card followed by its expiry or its code, or after a
    /// quantity). Bounded so: a run of a million one-digit groups is nine spans to try, not millions, and a line of
    /// small numbers is no card.
    static func cardWithin(_ text: ScanText, _ run: Range<Int>) -> Range<Int>? {
        var groups: [Range<Int>] = []
        var start = run.lowerBound
        for index in run where !ScanText.isDigit(text[index]) {
            if index > start { groups.append(start..<index) }
            start = index + 1
        }
        if run.upperBound > start { groups.append(start..<run.upperBound) }
        if groups.count == 1 {
            let digits = text.digits(run)
            return (13...19).contains(digits.count) && isCardNumber(digits) ? run : nil
        }
        var best: Range<Int>?
        for first in 0..<min(3, groups.count) {
            for last in stride(from: groups.count - 1, through: max(first, groups.count - 3), by: -1) {
                let span = groups[first].lowerBound..<groups[last].upperBound
                let whole = first == 0 && last == groups.count - 1
                guard whole || groups[first...last].allSatisfy({ $0.count >= 3 }) else { continue }
                let digits = text.digits(span)
                if (13...19).contains(digits.count), isCardNumber(digits), span.count > best?.count ?? 0 { best = span }
            }
        }
        return best
    }

    /// AAA-GG-SSSS, with the numbers the Social Security Administration never issues left out.
    static func socialSecurityNumbers(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index < text.count {
            if ScanText.isDigit(text[index]), let (range, groups) = digitRun(text, from: index, separators: [UInt8(ascii: "-")]) {
                let digits = text.digits(range)
                if groups == [3, 2, 4], text[range.lowerBound - 1] != UInt8(ascii: "-"), text[range.upperBound] != UInt8(ascii: "-") {
                    let area = digits[0] * 100 + digits[1] * 10 + digits[2]
                    if area != 0, area != 666, area < 900, digits[3...4] != [0, 0], digits[5...8] != [0, 0, 0, 0] {
                        found.append(SensitiveMatch(kind: .usSSN, range: range))
                    }
                }
                index = range.upperBound
            } else {
                index += 1
            }
        }
        return found
    }

    /// National groupings taken for phone numbers: US (3-3-4), French (2-2-2-2-2), UK (3-4-4, 4-3-4, 5-6, 5-3-3).
    static let nationalGroupings: Set<[Int]> = [[3, 3, 4], [2, 2, 2, 2, 2], [3, 4, 4], [4, 3, 4], [5, 6], [5, 3, 3]]

    /// E.164 numbers (`+` and 8 to 15 digits, grouped any way) and national numbers in the groupings above.
    static func phoneNumbers(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        let separators: Set<UInt8> = [0x20, UInt8(ascii: "-"), UInt8(ascii: ".")]
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "+"), ScanText.isDigit(text[index + 1]), text[index + 1] != UInt8(ascii: "0"), !ScanText.isAlphanumeric(text[index - 1]),
               let (range, _) = digitRun(text, from: index + 1, separators: separators) {
                if (8...15).contains(text.digits(range).count) {
                    found.append(SensitiveMatch(kind: .phone, range: index..<range.upperBound))
                }
                index = range.upperBound
            } else if (ScanText.isDigit(byte) || byte == UInt8(ascii: "(")),
                      let (range, groups) = digitRun(text, from: index, separators: separators, parentheses: true) {
                let digits = text.digits(range)
                let us = groups == [3, 3, 4] && digits[0] >= 2
                let national = digits.first == 0 && groups.count > 1 && nationalGroupings.contains(groups)
                if us || national { found.append(SensitiveMatch(kind: .phone, range: range)) }
                index = range.upperBound
            } else {
                index += 1
            }
        }
        return found
    }

    /// Each country's IBAN length.
    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CR": 22,
        "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
        "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
        "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
        "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
        "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
    ]

    /// IBANs, compact or in groups of four: the country's length, and the mod-97 checksum.
    static func ibans(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index + 4 <= text.count {
            guard ScanText.isUpper(text[index]), ScanText.isUpper(text[index + 1]), ScanText.isDigit(text[index + 2]),
                  ScanText.isDigit(text[index + 3]), text.startsWord(index),
                  let length = ibanLengths[String(decoding: text.bytes[index..<index + 2], as: UTF8.self)] else {
                index += 1
                continue
            }
            var characters: [UInt8] = []
            var end = index
            while end < text.count, characters.count < length {
                let byte = text[end]
                if ScanText.isUpper(byte) || ScanText.isDigit(byte) {
                    characters.append(byte)
                    end += 1
                } else if byte == 0x20, !characters.isEmpty, ScanText.isAlphanumeric(text[end + 1]) {
                    end += 1
                } else {
                    break
                }
            }
            if characters.count == length, text.endsWord(end), mod97(characters) == 1 {
                found.append(SensitiveMatch(kind: .iban, range: index..<end))
                index = end
            } else {
                index += 1
            }
        }
        return found
    }

    /// The IBAN checksum: the first four characters moved to the end, letters as 10-35, the number mod 97.
    static func mod97(_ characters: [UInt8]) -> Int {
        var remainder = 0
        for byte in characters[4...] + characters[..<4] {
            let value = ScanText.isDigit(byte) ? Int(byte - 0x30) : Int(byte - 0x41) + 10
            remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97
        }
        return remainder
    }
}
