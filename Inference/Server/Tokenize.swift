import GGUF
import InferenceEngine
import TextSafety

/// `inference-server tokenize`: token ids of a text, space-separated on one line, or with `--pieces` one token a
/// line beside the bytes it stands for (vocabulary-only files work).
enum Tokenize {
    static let usage = "USAGE: inference-server tokenize --model FILE --text TEXT [--add-bos] [--no-parse-special] [--pieces]"

    static func run(_ arguments: [String]) throws {
        let options = try Arguments("tokenize", arguments, valued: ["--model", "--text"],
                                    switches: ["--add-bos", "--no-parse-special", "--pieces"],
                                    aliases: ["-m": "--model", "-p": "--text"], usage: usage)
        let path = try options.required("--model"), text = try options.required("--text")
        let tokenizer = try loadTokenizer(path)
        let ids = tokenizer.encode(text, addBOS: options.has("--add-bos"), parseSpecial: !options.has("--no-parse-special"))
        guard options.has("--pieces") else {
            print(ids.map(String.init).joined(separator: " "))
            return
        }
        // as llama.cpp's llama-tokenize: `id -> 'piece'`, a piece's bytes escaped where they are not printable text
        for id in ids { print("\(id) -> '\(SafeText.quoted(bytes: tokenizer.piece(id, special: true), limit: 1_000))'") }
    }
}

/// The tokenizer of the GGUF file at `path`, with a message naming the file when it has none.
func loadTokenizer(_ path: String) throws -> Tokenizer {
    try Tokenizer(Vocabulary(GGUFFile.open(path)))
}
