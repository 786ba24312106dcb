import Foundation
import GGUF
import InferenceEngine

/// `inference-server perplexity`: the perplexity of a text file, measured as llama.cpp's llama-perplexity measures it
/// (chunks of --ctx tokens, each scored on its second half); the running figure per chunk goes to stderr.
enum PerplexityCommand {
    static let usage = "USAGE: inference-server perplexity --model FILE --file TEXT [--ctx 512] [--chunks N] [--threads N] [--kernels portable|avx2|avx512] [--attention exact|flash]"

    static func run(_ arguments: [String]) throws {
        let options = try Arguments("perplexity", arguments, valued: ["--model", "--file", "--ctx", "--chunks", "--threads", "--kernels", "--attention"],
                                    switches: [], aliases: ["-m": "--model", "-f": "--file", "-c": "--ctx", "-t": "--threads"],
                                    usage: usage)
        let path = try options.required("--model"), textPath = try options.required("--file")
        let context = try options.int("--ctx", default: 512, range: 4...1_000_000)
        let limit = options.string("--chunks") == nil ? nil : try options.int("--chunks", default: 1, range: 1...1_000_000)
        let threads = try options.int("--threads", default: Workers.available, range: 1...1024)
        guard let data = FileManager.default.contents(atPath: textPath) else {
            throw Arguments.Invalid(description: "perplexity: cannot read --file \(textPath)")
        }
        let file = try GGUFFile.open(path)
        let model = try Transformer(file, workers: Workers(threads: threads), kernels: options.kernels(), attention: options.attention())
        guard context <= model.config.contextLength else {
            throw Arguments.Invalid(description: "perplexity: --ctx \(context) exceeds the model's context of \(model.config.contextLength)")
        }
        let vocabulary = try Vocabulary(file)
        let tokens = try Tokenizer(vocabulary).encode(String(decoding: data, as: UTF8.self), addBOS: true)
        let started = Date()
        let result = try Perplexity.measure(model, tokens: tokens, context: context, bos: vocabulary.addBOS ? vocabulary.bos : nil,
                                            limit: limit) { chunk, value in
            FileHandle.standardError.write(Data(String(format: "[%d]%.4f,", chunk, value).utf8))
        }
        let seconds = Date().timeIntervalSince(started)
        FileHandle.standardError.write(Data(String(format: "\n%d chunks of %d tokens in %.1f s (%.1f t/s)\n", result.chunks, context,
                                                   seconds, Double(result.chunks * context) / max(seconds, 1e-9)).utf8))
        print(String(format: "Final estimate: PPL = %.4f +/- %.5f", result.perplexity, result.uncertainty))
    }
}
