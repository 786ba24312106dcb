import Foundation
import GGUF
import Testing
@testable import InferenceEngine

/// `inference-server tokenize`, `generate` and `bench` as a user runs them: what reaches stdout, stderr and the exit
/// status.
@Suite("inference-server command line")
struct ServerCommandTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary beside the test bundle (swift build puts every product in one folder).
    static var binary: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.pathExtension == "xctest" || directory.lastPathComponent == "Contents" || directory.lastPathComponent == "MacOS" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("inference-server")
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // read both to the end before waiting, so that a full pipe cannot stall the child
        let errorData = ThreadSafeData()
        let reader = Thread { errorData.value = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.done { usleep(1000) }
        return Result(status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
                      stderr: String(decoding: errorData.value, as: UTF8.self))
    }

    final class ThreadSafeData: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var finished = false
        var value: Data {
            get { lock.withLock { data } }
            set { lock.withLock { data = newValue; finished = true } }
        }
        var done: Bool { lock.withLock { finished } }
    }

    static func model(_ name: String) -> String { ModelFixtureTests.directory.appendingPathComponent(name).path }

    @Test("tokenize prints the ids on one line; BOS only when asked; special tokens parsed unless told not to")
    func tokenize() throws {
        let plain = try Self.run(["tokenize", "--model", Self.model("llama-q8_0.gguf"), "--text", "Hello world"])
        #expect(plain.status == 0)
        let ids = plain.stdout.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(!ids.isEmpty && ids.first != 1)
        let withBOS = try Self.run(["tokenize", "--model", Self.model("llama-q8_0.gguf"), "--text", "Hello world", "--add-bos"])
        #expect(withBOS.stdout == "1 " + plain.stdout)
        let special = try Self.run(["tokenize", "--model", Self.model("qwen2-q8_0.gguf"), "--text", "<|im_end|>"])
        #expect(special.stdout == "1026\n")
        let literal = try Self.run(["tokenize", "--model", Self.model("qwen2-q8_0.gguf"), "--text", "<|im_end|>", "--no-parse-special"])
        #expect(literal.stdout != "1026\n")
    }

    @Test("greedy generate prints exactly llama.cpp's greedy continuation, and only that, on stdout",
          arguments: [[], ["--attention", "exact"], ["--attention", "flash"]])
    func greedyText(_ attention: [String]) throws {
        let model = try #require(ModelFixtureTests.models.first { $0.file == "qwen2-q4_k_m.gguf" })
        let test = try #require(model.cases.first { $0.greedy.count >= 8 })
        let tokenizer = try Tokenizer(Vocabulary(GGUFFile.open(Self.model(model.file))))
        let result = try Self.run(["generate", "--model", Self.model(model.file), "--prompt", test.text, "--temperature", "0",
                                   "--max-tokens", String(test.greedy.count), "--threads", "2"] + attention)
        #expect(result.status == 0)
        #expect(result.stdout == tokenizer.decode(test.greedy), "exactly the model's text, no newline added")
        #expect(result.stderr.contains("generated: \(test.greedy.count) tokens"))
    }

    @Test("the same seed prints the same text; chat mode formats the prompt with the model's template")
    func seedsAndChat() throws {
        let arguments = ["generate", "--model", Self.model("llama-q4_0.gguf"), "--prompt", "Once upon a time", "--max-tokens", "16",
                         "--temperature", "1.2", "--seed", "11"]
        let first = try Self.run(arguments), second = try Self.run(arguments)
        #expect(first.status == 0 && first.stdout == second.stdout && !first.stdout.isEmpty)
        let chat = try Self.run(["generate", "--model", Self.model("qwen2-q8_0.gguf"), "--prompt", "Hi", "--chat", "--max-tokens", "4", "--seed", "1"])
        #expect(chat.status == 0)
        let noTemplate = try Self.run(["generate", "--model", Self.model("llama-f32.gguf"), "--prompt", "Hi", "--chat", "--chat-template", "nope"])
        #expect(noTemplate.status == 2 && noTemplate.stderr.contains("--chat-template") && noTemplate.stdout.isEmpty)
    }

    @Test("bad input is one line on stderr, exit 2, nothing on stdout", arguments: [
        ["generate", "--model", "/nonexistent.gguf", "--prompt", "x"],
        ["generate", "--prompt", "x"],
        ["generate", "--model", "M", "--prompt", "x", "--top-p", "2"],
        ["generate", "--model", "M", "--prompt", "x", "--bogus"],
        ["bench", "--model", "M", "--output", "xml"],
        ["bench", "--model", "M", "--attention", "fast"],
        ["tokenize", "--model", "V", "--text", "x", "--add-bos", "--max-tokens"],
        ["serve-everything"],
    ])
    func badInput(_ arguments: [String]) throws {
        let resolved = arguments.map {
            $0 == "M" ? Self.model("llama-q4_0.gguf") : $0 == "V" ? TokenizerVectorTests.fixtures.appendingPathComponent("ggml-vocab-llama-spm.gguf").path : $0
        }
        let result = try Self.run(resolved)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("inference-server: "))
    }

    @Test("a vocabulary-only file tokenizes but does not generate")
    func vocabularyOnly() throws {
        let vocabulary = TokenizerVectorTests.fixtures.appendingPathComponent("ggml-vocab-llama-spm.gguf").path
        #expect(try Self.run(["tokenize", "--model", vocabulary, "--text", "Hi"]).status == 0)
        let generate = try Self.run(["generate", "--model", vocabulary, "--prompt", "Hi"])
        #expect(generate.status == 2 && generate.stderr.contains("missing"))
    }

    @Test("bench --output json gives a pp and a tg row with positive speeds, and the attention it ran")
    func bench() throws {
        let result = try Self.run(["bench", "--model", Self.model("llama-q4_k_m.gguf"), "-p", "16", "-n", "4", "-r", "1", "--output", "json",
                                   "--attention", "flash"])
        #expect(result.status == 0)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(rows.compactMap { $0["test"] as? String } == ["pp16", "tg4"])
        #expect(rows.compactMap { $0["attention"] as? String } == ["flash", "flash"])
        // the quantisation the file was made as (general.file_type), not the type of its largest tensor
        #expect(rows.compactMap { $0["type"] as? String } == ["Q4_K_M", "Q4_K_M"])
        #expect(rows.allSatisfy { ($0["tokensPerSecond"] as? Double ?? 0) > 0 })
    }

    @Test("each command's --help and -h print its usage on stdout and exit 0", arguments: ["tokenize", "generate", "bench"])
    func help(_ command: String) throws {
        for flag in ["--help", "-h"] {
            let result = try Self.run([command, flag])
            #expect(result.status == 0 && result.stdout.contains("USAGE: inference-server \(command)") && result.stderr.isEmpty)
        }
        let none = try Self.run([])
        #expect(none.status == 2 && none.stdout.isEmpty && none.stderr.contains("missing command"))
    }

    @Test("llama.cpp's short flags and --flag=value mean what they mean there")
    func llamaCppFlags() throws {
        let model = try #require(ModelFixtureTests.models.first { $0.file == "qwen2-q4_k_m.gguf" })
        let test = try #require(model.cases.first { $0.greedy.count >= 8 })
        let long = try Self.run(["generate", "--model", Self.model(model.file), "--prompt", test.text, "--temperature", "0",
                                 "--max-tokens", "6", "--threads", "2"])
        let short = try Self.run(["generate", "-m", Self.model(model.file), "-p", test.text, "--temp=0", "-n", "6", "-t", "2"])
        let equals = try Self.run(["generate", "--model=\(Self.model(model.file))", "--prompt=\(test.text)", "--temperature=0",
                                   "--n-predict=6", "--threads=2"])
        #expect(long.status == 0 && !long.stdout.isEmpty)
        #expect(short.stdout == long.stdout && equals.stdout == long.stdout)
        let switchWithValue = try Self.run(["generate", "--model", Self.model(model.file), "--prompt", "x", "--chat=yes"])
        #expect(switchWithValue.status == 2 && switchWithValue.stderr.contains("takes no value"))
    }

    @Test("--max-tokens -1 generates until the end of sequence or a full context")
    func unbounded() throws {
        let result = try Self.run(["generate", "--model", Self.model("llama-q4_0.gguf"), "--prompt", "Once", "--max-tokens", "-1",
                                   "--ctx", "24", "--temperature", "0"])
        #expect(result.status == 0)
        let generated = try #require(result.stderr.firstMatch(of: /generated: (\d+) tokens/).map { Int($0.1) ?? 0 })
        let prompt = try #require(result.stderr.firstMatch(of: /prompt: (\d+) tokens/).map { Int($0.1) ?? 0 })
        #expect(prompt + generated == 24 || result.stderr.contains("finish: stop"), "\(result.stderr)")
        #expect(try Self.run(["generate", "--model", Self.model("llama-q4_0.gguf"), "--prompt", "x", "-n", "0"]).status == 2)
    }

    @Test("tokenize --pieces shows each id beside its bytes, escaped where they are not printable")
    func pieces() throws {
        let vocabulary = TokenizerVectorTests.fixtures.appendingPathComponent("ggml-vocab-llama-spm.gguf").path
        let result = try Self.run(["tokenize", "-m", vocabulary, "--text", "Hi\n🦙", "--add-bos", "--pieces"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "1 -> '<s>'")
        #expect(lines.contains("13 -> '\\n'"))
        #expect(lines.contains { $0.hasSuffix("-> '\\xF0'") }, "a lone byte of a split character is shown as \\xNN: \(lines)")
    }
}
