/// Control characters have no place in names, keys, tags or parameters: they cannot reach an AWS field intact,
/// and in a terminal or a log they rewrite what the reader sees.
enum ControlCharacters {
    /// Whether `text` holds a C0 or C1 control character or DEL (tab and newline included: no value needs them,
    /// and a multi-line value in a name is always a mistake or an attack).
    static func present(in text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
}
