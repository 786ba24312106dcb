import Foundation
import GGUF
import InferenceEngine

/// `inference-server bench`: prompt processing (pp) and generation (tg) speed, like llama-bench's rows: pp runs
/// `-p` tokens in one batch, tg generates `-n` tokens one at a time, each after `-d` tokens already in the cache
/// (none unless told, llama-bench's depth); each is repeated `-r` times.
enum Bench {
    struct Row: Codable {
        var model: String
        var type: String
        var sizeBytes: Int
        var parameters: Int
        var threads: Int
        var kernels: String
        var attention: String
        var test: String
        var tokensPerSecond: Double
        var standardDeviation: Double
        var samples: [Double]
    }

    /// llama.cpp's names of `general.file_type` (llama.h's `LLAMA_FTYPE_*`), the quantisation a file was made as.
    static let fileTypes: [Int: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M",
        13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 21: "Q2_K_S", 32: "BF16",
    ]

    /// The file's quantisation as llama.cpp names it (a Q4_K_M file mixes Q4_K, Q6_K and others); without a known
    /// `general.file_type`, the type holding the most bytes of the file's matrices.
    static func typeName(_ file: GGUFFile) -> String {
        if let type = file.int("general.file_type"), let name = fileTypes[type] { return name }
        let types = Dictionary(grouping: file.tensors.filter { $0.dimensions.count == 2 }, by: \.type)
        return types.max { $0.value.reduce(0) { $0 + $1.byteCount } < $1.value.reduce(0) { $0 + $1.byteCount } }?.key.name ?? "?"
    }

    static let usage = "USAGE: inference-server bench --model FILE [-p 512] [-n 128] [-r 3] [-d 0] [--threads N] [--kernels portable|avx2|avx512] [--attention exact|flash] [--output text|json]"

    static func run(_ arguments: [String]) throws {
        let options = try Arguments("bench", arguments, valued: ["--model", "-p", "-n", "-r", "-d", "--threads", "--kernels", "--attention", "--output"], switches: [],
                                    aliases: ["-m": "--model", "-t": "--threads", "-o": "--output", "--n-prompt": "-p", "--n-gen": "-n",
                                              "--repetitions": "-r", "--n-depth": "-d", "--depth": "-d"], usage: usage)
        let path = try options.required("--model")
        let promptTokens = try options.int("-p", default: 512), generateTokens = try options.int("-n", default: 128)
        let repetitions = try options.int("-r", default: 3, range: 1...100)
        let depth = try options.int("-d", default: 0, range: 0...1_000_000)
        let threads = try options.int("--threads", default: Workers.available, range: 1...1024)
        let format = options.string("--output") ?? "text"
        guard ["text", "json"].contains(format) else { throw Arguments.Invalid(description: "bench: --output is text or json, not '\(format)'") }

        let file = try GGUFFile.open(path)
        let kernels = try options.kernels()
        let attention = try options.attention()
        let model = try Transformer(file, workers: Workers(threads: threads), kernels: kernels, attention: attention)
        let size = file.tensors.reduce(0) { $0 + $1.byteCount }
        let parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
        let mainType = typeName(file)
        var generator = SplitMix64(seed: 1)
        func randomTokens(_ count: Int) -> [Int] { (0..<count).map { _ in Int(generator.next() % UInt64(model.vocabularySize)) } }

        var rows: [Row] = []
        func measure(_ test: String, tokens: Int, _ body: () throws -> Void) rethrows {
            var samples: [Double] = []
            try body()  // warm-up: pages the weights in
            for _ in 0..<repetitions {
                let start = Date()
                try body()
                samples.append(Double(tokens) / Date().timeIntervalSince(start))
            }
            let mean = samples.reduce(0, +) / Double(samples.count)
            let deviation = (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples.count)).squareRoot()
            rows.append(Row(model: URL(fileURLWithPath: path).lastPathComponent, type: mainType, sizeBytes: size, parameters: parameters,
                            threads: threads, kernels: kernels.rawValue, attention: attention.rawValue, test: test, tokensPerSecond: mean, standardDeviation: deviation, samples: samples))
        }
        // the depth's tokens are processed once, untimed; each run goes back to them
        let cache = model.makeCache(capacity: depth + max(promptTokens, generateTokens))
        if depth > 0 { _ = try model.forward(randomTokens(depth), cache: cache) }
        let suffix = depth > 0 ? " @ d\(depth)" : ""
        if promptTokens > 0 {
            let tokens = randomTokens(promptTokens)
            try measure("pp\(promptTokens)\(suffix)", tokens: promptTokens) {
                cache.truncate(to: depth)
                _ = try model.forward(tokens, cache: cache)
            }
        }
        if generateTokens > 0 {
            let tokens = randomTokens(generateTokens)
            try measure("tg\(generateTokens)\(suffix)", tokens: generateTokens) {
                cache.truncate(to: depth)
                for token in tokens { _ = try model.forward([token], cache: cache) }
            }
        }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
        } else {
            print("| model | type | size | params | threads | kernels | attention | test | t/s |")
            print("| --- | --- | ---: | ---: | ---: | --- | --- | --- | ---: |")
            for row in rows {
                print(String(format: "| %@ | %@ | %.2f MiB | %.2f M | %d | %@ | %@ | %@ | %.2f ± %.2f |", row.model, row.type, Double(row.sizeBytes) / 1_048_576,
                             Double(row.parameters) / 1e6, row.threads, row.kernels, row.attention, row.test, row.tokensPerSecond, row.standardDeviation))
            }
        }
    }
}
