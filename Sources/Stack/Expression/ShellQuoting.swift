/// Quoting for POSIX shells, the only way a stack value may enter a script (the node's user data).
public enum ShellQuoting {
    /// `text` as one shell word that stands for exactly itself: wrapped in single quotes, inside which the shell
    /// expands nothing (`$(...)`, backquotes, `;`, newlines all stay text); a single quote is written as `'\''`.
    /// Nil when `text` holds a NUL byte, which no shell word can carry.
    public static func quoted(_ text: String) -> String? {
        guard !text.unicodeScalars.contains("\0") else { return nil }
        var out = "'"
        for scalar in text.unicodeScalars {
            if scalar == "'" { out += #"'\''"# } else { out.unicodeScalars.append(scalar) }
        }
        return out + "'"
    }

    /// `text` as a shell word for a hint the user copies: bare when it holds only characters no shell treats
    /// specially, quoted otherwise.
    public static func word(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_./:=@%+,-".unicodeScalars.contains(scalar))
        }
        return plain ? text : (quoted(text) ?? text)
    }
}
