/// A text as guardrail rules read it, each of its UTF-8 bytes traced back to the bytes of the original it came
/// from, so that a finding in the normalized text masks exactly the characters that spelled it.
///
/// Both forms drop what a reader does not see or reads past (zero-width characters, joiners, soft hyphens, variation
/// selectors, bidirectional controls, combining and enclosing marks), read every decimal digit as its ASCII digit
/// (full-width, Arabic-Indic, Devanagari...), every space as a space, every dash and the minus sign as "-", an
/// ideographic full stop as ".", and fold compatibility forms (full-width letters and signs, ligatures) to what they
/// stand for. `folded`, which word lists read, also lower-cases, strips accents, maps letters drawn like Latin ones
/// (Cyrillic, Greek and Armenian letters, small capitals, IPA) to those, and collapses runs of white space into one.
struct NormalizedText {
    enum Form { case compatible, folded }

    let bytes: [UInt8]
    /// For normalized byte i, the original bytes `starts[i]..<ends[i]` (the whole character it came from).
    private let starts: [Int32]
    private let ends: [Int32]

    init(_ text: String, form: Form) {
        var bytes: [UInt8] = [], starts: [Int32] = [], ends: [Int32] = []
        bytes.reserveCapacity(text.utf8.count)
        starts.reserveCapacity(text.utf8.count)
        ends.reserveCapacity(text.utf8.count)
        var cache: [UInt32: [UInt8]] = [:]
        var offset = 0
        var lastWasSpace = false
        func append(_ byte: UInt8, width: Int) {
            let space = byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
            if form == .folded, space {
                if lastWasSpace {
                    ends[ends.count - 1] = Int32(offset + width)
                    return
                }
                bytes.append(0x20)
            } else {
                bytes.append(byte)
            }
            lastWasSpace = space
            starts.append(Int32(offset))
            ends.append(Int32(offset + width))
        }
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let byte = UInt8(scalar.value)
                append(form == .folded && byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte, width: 1)
                offset += 1
                continue
            }
            let width = UTF8.width(scalar)
            let mapped: [UInt8]
            if let known = cache[scalar.value] {
                mapped = known
            } else {
                mapped = Self.map(scalar, form: form)
                cache[scalar.value] = mapped
            }
            for byte in mapped { append(byte, width: width) }
            offset += width
        }
        self.bytes = bytes
        self.starts = starts
        self.ends = ends
    }

    /// The bytes of the original text that `range` of the normalized text came from.
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return Int(starts[range.lowerBound])..<Int(starts[range.lowerBound]) }
        return Int(starts[range.lowerBound])..<Int(ends[range.upperBound - 1])
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    private static func map(_ scalar: Unicode.Scalar, form: Form) -> [UInt8] {
        let properties = scalar.properties
        let category = properties.generalCategory
        if properties.isDefaultIgnorableCodePoint || category == .format || category == .nonspacingMark || category == .enclosingMark { return [] }
        if category == .decimalNumber, let value = properties.numericValue, value >= 0, value <= 9 {
            return [0x30 + UInt8(value)]
        }
        if properties.isWhitespace { return [0x20] }
        if category == .dashPunctuation || scalar == "\u{2212}" { return [UInt8(ascii: "-")] }
        if scalar == "\u{3002}" || scalar == "\u{FF61}" { return [UInt8(ascii: ".")] }
        switch form {
        case .compatible:
            return Array(String(scalar).precomposedStringWithCompatibilityMapping.utf8)
        case .folded:
            var out: [UInt8] = []
            for part in String(scalar).decomposedStringWithCompatibilityMapping.unicodeScalars
            where part.properties.generalCategory != .nonspacingMark {
                // a capital drawn like a Latin letter is mapped before lower-casing (Greek Ν lower-cases to ν, drawn like v)
                if let latin = confusables[part.value] {
                    out.append(latin)
                    continue
                }
                for lower in part.properties.lowercaseMapping.unicodeScalars {
                    if let latin = confusables[lower.value] {
                        out.append(latin)
                    } else {
                        out += Array(String(lower).utf8)
                    }
                }
            }
            return out
        }
    }

    /// Letters drawn like Latin ones, capitals included (looked up before lower-casing): Cyrillic, Greek, Armenian,
    /// small capitals and IPA. Not every script: enough that the usual substitutions do not hide a listed word.
    private static let confusables: [UInt32: UInt8] = {
        let pairs: [(String, Character)] = [
            ("АΑᴀɑ", "a"), ("ВΒʙ", "b"), ("СϹᴄ", "c"), ("ᴅ", "d"), ("ЕΕᴇ", "e"), ("ɢ", "g"), ("НΗʜհ", "h"), ("ІΙɪɩ", "i"),
            ("Јᴊ", "j"), ("КΚᴋ", "k"), ("ʟ", "l"), ("МΜᴍ", "m"), ("Νɴ", "n"), ("ОΟᴏօ", "o"), ("РΡᴘ", "p"), ("ʀ", "r"),
            ("Ѕꜱ", "s"), ("ТΤᴛ", "t"), ("ᴜս", "u"), ("ᴠʋ", "v"), ("ᴡ", "w"), ("ХΧ", "x"), ("ΥʏУ", "y"), ("Ζᴢ", "z"),
            ("аα", "a"), ("вβ", "b"), ("сϲ", "c"), ("ԁ", "d"), ("еε", "e"), ("ғ", "f"), ("ɡ", "g"), ("һ", "h"), ("іιı", "i"),
            ("ј", "j"), ("кκ", "k"), ("ӏ", "l"), ("м", "m"), ("пη", "n"), ("оοσ", "o"), ("рρ", "p"), ("ԛ", "q"),
            ("ѕ", "s"), ("тτ", "t"), ("υ", "u"), ("ѵν", "v"), ("ԝω", "w"), ("хχ", "x"), ("уγ", "y"), ("ᴢ", "z"),
        ]
        var table: [UInt32: UInt8] = [:]
        for (letters, latin) in pairs {
            for scalar in letters.unicodeScalars { table[scalar.value] = latin.asciiValue! }
        }
        return table
    }()
}
