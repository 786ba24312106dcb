import Foundation

/// E-mail and IP addresses, AWS keys, PEM private keys and JSON Web Tokens: tokens whose shape says what they are.
enum TokenDetectors {
    static func isLocalPart(_ byte: UInt8) -> Bool {
        ScanText.isAlphanumeric(byte) || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(byte)
    }

    /// `local@domain.tld`: a dotted domain of two labels or more, ending in a top-level domain of letters.
    static func emails(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        for at in 0..<text.count where text[at] == UInt8(ascii: "@") {
            var start = at
            while start > 0, isLocalPart(text[start - 1]) { start -= 1 }
            while start < at, text[start] == UInt8(ascii: ".") { start += 1 }
            guard start < at, text[at - 1] != UInt8(ascii: ".") else { continue }
            var end = at + 1
            var labels = 0
            var label = 0
            var lastLabelLetters = true
            while end < text.count {
                let byte = text[end]
                if ScanText.isAlphanumeric(byte) || (byte == UInt8(ascii: "-") && label > 0) {
                    lastLabelLetters = label == 0 ? ScanText.isLetter(byte) : lastLabelLetters && ScanText.isLetter(byte)
                    label += 1
                    end += 1
                } else if byte == UInt8(ascii: "."), label > 0, ScanText.isAlphanumeric(text[end + 1]) {
                    labels += 1
                    label = 0
                    end += 1
                } else {
                    break
                }
            }
            guard label >= 2, labels >= 1, lastLabelLetters, text[end - 1] != UInt8(ascii: "-") else { continue }
            found.append(SensitiveMatch(kind: .email, range: start..<end))
        }
        return found
    }

    /// Dotted IPv4 (each part 0-255) and IPv6 as inet_pton reads it.
    static func ipAddresses(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index < text.count {
            let byte = text[index]
            guard ScanText.isHex(byte) || byte == UInt8(ascii: ":"), !ScanText.isAlphanumeric(text[index - 1]),
                  text[index - 1] != UInt8(ascii: "."), text[index - 1] != UInt8(ascii: ":") else {
                index += 1
                continue
            }
            var end = index
            while end < text.count, ScanText.isHex(text[end]) || text[end] == UInt8(ascii: ".") || text[end] == UInt8(ascii: ":") { end += 1 }
            var candidate = end
            // a sentence's full stop or colon after the address is not part of it
            while candidate > index, text[candidate - 1] == UInt8(ascii: ".") || (text[candidate - 1] == UInt8(ascii: ":") && text[candidate - 2] != UInt8(ascii: ":")) {
                candidate -= 1
            }
            if !ScanText.isAlphanumeric(text[end]), candidate > index, isAddress(String(decoding: text.bytes[index..<candidate], as: UTF8.self)) {
                found.append(SensitiveMatch(kind: .ipAddress, range: index..<candidate))
            }
            index = max(end, index + 1)
        }
        return found
    }

    static func isAddress(_ candidate: String) -> Bool {
        if candidate.contains(":") {
            guard candidate.filter({ $0 == ":" }).count >= 2 else { return false }
            var address = in6_addr()
            return inet_pton(AF_INET6, candidate, &address) == 1
        }
        let parts = candidate.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(\.isNumber), part == "0" || !part.hasPrefix("0"), let value = Int(part) else { return false }
            return value <= 255
        }
    }

    /// Access keys (long-term and temporary); AIDA, AROA and the other unique-id prefixes name users and roles, not keys.
    static let accessKeyPrefixes = ["AKIA", "ASIA", "ABIA", "ACCA"].map { Array($0.utf8) }

    /// An AWS access key id: a known prefix and 16 characters of base32 (A-Z, 2-7).
    static func awsAccessKeys(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index + 20 <= text.count {
            // compared as bytes, and only where an "A" starts a word: this runs at every position of every text
            if text[index] == UInt8(ascii: "A"), text.startsWord(index),
               accessKeyPrefixes.contains(where: { $0.elementsEqual(text.bytes[index..<index + 4]) }), text.endsWord(index + 20),
               text.bytes[index + 4..<index + 20].allSatisfy({ ScanText.isUpper($0) || (0x32...0x37).contains($0) }) {
                found.append(SensitiveMatch(kind: .awsAccessKey, range: index..<index + 20))
                index += 20
            } else {
                index += 1
            }
        }
        return found
    }

    static func isSecretCharacter(_ byte: UInt8) -> Bool { ScanText.isAlphanumeric(byte) || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "+") }

    /// An AWS secret access key: 40 characters of base64 with a word saying "secret" shortly before it (40 such
    /// characters alone are as often a digest or an id).
    static func awsSecretKeys(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index < text.count {
            guard isSecretCharacter(text[index]), !isSecretCharacter(text[index - 1]) else {
                index += 1
                continue
            }
            var end = index
            while end < text.count, isSecretCharacter(text[end]) { end += 1 }
            let run = text.bytes[index..<end]
            if end - index == 40, text[end] != UInt8(ascii: "="), run.contains(where: ScanText.isUpper), run.contains(where: ScanText.isLower),
               text.contains("secret", in: (index - 48)..<index) {
                found.append(SensitiveMatch(kind: .awsSecretKey, range: index..<end))
            }
            index = end
        }
        return found
    }

    /// A PEM private key, from its BEGIN line through its END line (or the end of the text: a cut key is a leak too).
    static func privateKeys(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        let begin = Array("-----BEGIN ".utf8)
        var index = 0
        while index + begin.count <= text.count {
            guard text.bytes[index..<index + begin.count].elementsEqual(begin) else {
                index += 1
                continue
            }
            var lineEnd = index + begin.count
            while lineEnd < text.count, text[lineEnd] != 0x0A, text[lineEnd] != UInt8(ascii: "-") { lineEnd += 1 }
            let label = String(decoding: text.bytes[index + begin.count..<lineEnd], as: UTF8.self)
            // a header someone quotes is no key: a key's header is followed by its base64 body
            guard label.hasSuffix("PRIVATE KEY"), Self.bodyFollows(text, after: lineEnd) else {
                index = lineEnd
                continue
            }
            let end = Array("-----END \(label)-----".utf8)
            var stop = text.count
            var search = lineEnd
            while search + end.count <= text.count {
                if text.bytes[search..<search + end.count].elementsEqual(end) { stop = search + end.count; break }
                search += 1
            }
            found.append(SensitiveMatch(kind: .privateKey, range: index..<stop))
            index = stop
        }
        return found
    }

    /// Whether the header line ending at `index` (its closing dashes) is followed by at least 16 characters of
    /// base64: after white space or a JSON string's `\n` (a key indented in YAML, on one line, or with trailing
    /// spaces after its header), and past the RFC 1421 headers of an encrypted key (`Proc-Type:`, `DEK-Info:`).
    static func bodyFollows(_ text: ScanText, after index: Int) -> Bool {
        var position = index
        while text[position] == UInt8(ascii: "-") { position += 1 }
        let start = position
        func skipSpace() {
            while true {
                if [0x20, 0x09, 0x0D, 0x0A].contains(text[position]) {
                    position += 1
                } else if text[position] == UInt8(ascii: "\\"), text[position + 1] == UInt8(ascii: "n") {
                    position += 2
                } else {
                    return
                }
            }
        }
        skipSpace()
        guard position > start else { return false }
        for header in ["Proc-Type:", "DEK-Info:"] where text.contains(header.lowercased(), in: position..<position + header.utf8.count) {
            while position < text.count, text[position] != 0x0A, !(text[position] == UInt8(ascii: "\\") && text[position + 1] == UInt8(ascii: "n")) {
                position += 1
            }
            skipSpace()
        }
        var run = 0
        while ScanText.isAlphanumeric(text[position]) || text[position] == UInt8(ascii: "+") || text[position] == UInt8(ascii: "/") {
            run += 1
            position += 1
        }
        return run >= 16
    }

    /// A JSON Web Token: three base64url parts (the last may be empty), the first a JSON object naming its `alg`, the
    /// second a JSON object.
    static func jsonWebTokens(_ text: ScanText) -> [SensitiveMatch] {
        var found: [SensitiveMatch] = []
        var index = 0
        while index + 3 <= text.count {
            guard text[index] == UInt8(ascii: "e"), text[index + 1] == UInt8(ascii: "y"), text[index + 2] == UInt8(ascii: "J"),
                  !ScanText.isBase64URL(text[index - 1]), text[index - 1] != UInt8(ascii: ".") else {
                index += 1
                continue
            }
            var parts: [Range<Int>] = []
            var start = index
            var end = index
            while true {
                while end < text.count, ScanText.isBase64URL(text[end]) { end += 1 }
                parts.append(start..<end)
                guard parts.count < 3, text[end] == UInt8(ascii: "."), ScanText.isBase64URL(text[end + 1]) || parts.count == 2 else { break }
                end += 1
                start = end
            }
            if parts.count == 3, parts[0].count >= 4, parts[1].count >= 2, text[end] != UInt8(ascii: "."),
               let header = Self.base64URL(text.bytes[parts[0]]),
               let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any], object["alg"] != nil,
               let payload = Self.base64URL(text.bytes[parts[1]]), (try? JSONSerialization.jsonObject(with: payload)) is [String: Any] {
                found.append(SensitiveMatch(kind: .jwt, range: index..<end))
                index = end
            } else {
                index += 3
            }
        }
        return found
    }

    static func base64URL(_ bytes: ArraySlice<UInt8>) -> Data? {
        var text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: text)
    }
}
