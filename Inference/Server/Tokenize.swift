import InferenceEngine

/// `inference-server tokenize`: token ids of a text, space-separated on one line (vocabulary-only files work).
enum Tokenize {
    static func run(_ arguments: [String]) throws {
        let options = try Arguments("tokenize", arguments, valued: ["--model", "--text"], switches: ["--add-bos", "--no-parse-special"])
        let path = try options.required("--model"), text = try options.required("--text")
        let tokenizer = try loadTokenizer(path)
        let ids = tokenizer.encode(text, addBOS: options.has("--add-bos"), parseSpecial: !options.has("--no-parse-special"))
        print(ids.map(String.init).joined(separator: " "))
    }
}

/// The tokenizer of the GGUF file at `path`, with a message naming the file when it has none.
func loadTokenizer(_ path: String) throws -> Tokenizer {
    try Tokenizer(Vocabulary(GGUFFile.open(path)))
}
