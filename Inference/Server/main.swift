import Foundation
import InferenceEngine

// inference-server: so far `tokenize`; the model runtime and the HTTP API come with the next steps of the engine.
let arguments = Array(CommandLine.arguments.dropFirst())

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("inference-server: \(message)\n".utf8))
    exit(code)
}

func value(_ flag: String) -> String? {
    guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

switch arguments.first {
case "tokenize":
    guard let model = value("--model") else { fail("tokenize needs --model FILE") }
    guard let text = value("--text") else { fail("tokenize needs --text TEXT") }
    do {
        let file = try GGUFFile.open(model)
        let vocabulary = try Vocabulary(file)
        var ids: [Int]
        switch vocabulary.model {
        case "llama": ids = SentencePieceTokenizer(vocabulary).encode(text)
        case "gpt2": ids = try BytePairTokenizer(vocabulary, merges: vocabulary.merges, pre: vocabulary.preTokenizer ?? "").encode(text)
        default: fail("tokenizer '\(vocabulary.model)' is not supported (llama and gpt2 are)")
        }
        if arguments.contains("--add-bos"), let bos = vocabulary.bos { ids.insert(bos, at: 0) }
        print(ids.map(String.init).joined(separator: " "))
    } catch {
        fail("\(error)")
    }
case nil, "-h", "--help":
    print("USAGE: inference-server tokenize --model FILE --text TEXT [--add-bos]")
default:
    fail("unknown command '\(arguments[0])'; try: inference-server tokenize --model FILE --text TEXT")
}
