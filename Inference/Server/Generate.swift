import Foundation
import GGUF
import InferenceEngine

/// `inference-server generate`: streams the generated text (not the prompt) to stdout, exactly as the model produced
/// it; statistics go to stderr.
enum Generate {
    static let usage = """
        USAGE: inference-server generate --model FILE --prompt TEXT [--max-tokens N|-1] [--temperature T] [--top-k K]
                                         [--top-p P] [--min-p P] [--repeat-penalty R] [--presence-penalty P]
                                         [--frequency-penalty F] [--seed S] [--stop TEXT]... [--threads N] [--ctx N]
                                         [--kernels portable|avx2|avx512] [--attention exact|flash]
                                         [--chat [--system TEXT] [--chat-template NAME]]
               (llama.cpp's -m, -p, -n, -t, -c, -s and --n-predict, --ctx-size, --temp work too; --max-tokens -1 runs
               until the end of sequence or a full context)
        """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments("generate", arguments, valued: [
            "--model", "--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
            "--presence-penalty", "--frequency-penalty", "--seed", "--stop", "--threads", "--ctx", "--system", "--chat-template", "--kernels", "--attention",
        ], switches: ["--chat"], aliases: [
            "-m": "--model", "-p": "--prompt", "-n": "--max-tokens", "--n-predict": "--max-tokens", "-t": "--threads",
            "-c": "--ctx", "--ctx-size": "--ctx", "-s": "--seed", "--temp": "--temperature",
        ], usage: usage)
        let path = try options.required("--model"), promptText = try options.required("--prompt")
        var sampling = SamplingSettings()
        sampling.temperature = try options.float("--temperature", default: 0.8, range: 0...10)
        sampling.topK = try options.int("--top-k", default: 40)
        sampling.topP = try options.float("--top-p", default: 0.95, range: 0...1)
        sampling.minP = try options.float("--min-p", default: 0.05, range: 0...1)
        sampling.repetitionPenalty = try options.float("--repeat-penalty", default: 1, range: 0.01...10)
        sampling.presencePenalty = try options.float("--presence-penalty", default: 0, range: -10...10)
        sampling.frequencyPenalty = try options.float("--frequency-penalty", default: 0, range: -10...10)
        sampling.seed = UInt64(try options.int("--seed", default: Int.random(in: 0...Int(Int32.max))))
        let requestedTokens = try options.int("--max-tokens", default: 128, range: -1...1_000_000)
        guard requestedTokens != 0 else { throw Arguments.Invalid(description: "generate: --max-tokens must be -1 or at least 1") }
        let threads = try options.int("--threads", default: Workers.available, range: 1...1024)
        if let name = options.string("--chat-template"), ChatTemplate(name: name) == nil {
            throw Arguments.Invalid(description: "generate: unknown --chat-template '\(name)' (known: \(ChatTemplate.names.joined(separator: ", ")))")
        }

        let file = try GGUFFile.open(path)
        let model = try Transformer(file, workers: Workers(threads: threads), kernels: options.kernels(), attention: options.attention())
        let tokenizer = try Tokenizer(Vocabulary(file))
        var prompt = promptText
        if options.has("--chat") {
            let template = try options.string("--chat-template").flatMap(ChatTemplate.init(name:))
                ?? ChatTemplate.detect(file.string("tokenizer.chat_template"), architecture: file.string("general.architecture"))
            var messages: [ChatMessage] = []
            if let system = options.string("--system") { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: promptText))
            prompt = template.render(messages)
        }
        let tokens = tokenizer.encode(prompt, addBOS: true, parseSpecial: true)
        let context = try options.int("--ctx", default: requestedTokens < 0 ? model.config.contextLength
                                          : min(model.config.contextLength, tokens.count + requestedTokens), range: 1...model.config.contextLength)
        let maxTokens = requestedTokens < 0 ? max(1, context - tokens.count) : requestedTokens
        let generator = Generator(model: model, tokenizer: tokenizer)
        let output = FileHandle.standardOutput
        let result = try generator.generate(prompt: tokens, maxTokens: maxTokens, sampling: sampling, stop: options.strings("--stop"),
                                            cache: model.makeCache(capacity: context)) { text in
            output.write(Data(text.utf8))
            return true
        }
        // the text stays as the model made it; on a terminal the statistics start on a line of their own
        if isatty(STDOUT_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        let stats = String(format: "prompt: %d tokens, %.1f t/s; generated: %d tokens, %.1f t/s; finish: %@; seed %llu\n",
                           result.promptTokens, Double(result.promptTokens) / max(result.promptSeconds, 1e-9),
                           result.tokens.count, Double(result.tokens.count) / max(result.generationSeconds, 1e-9),
                           result.finishReason.rawValue, sampling.seed)
        FileHandle.standardError.write(Data(stats.utf8))
    }
}
