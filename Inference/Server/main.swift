import Diagnostics
import Foundation
import GGUF
import InferenceEngine
import InferenceService
import TextSafety

// inference-server: the engine's command line (tokenize, generate, perplexity, bench) and the HTTP API (serve).
let usage = [Tokenize.usage, Generate.usage, PerplexityCommand.usage, Bench.usage, Serve.usage, Keys.usage, Audit.usage].joined(separator: "\n")

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("inference-server: \(message)\n".utf8))
    exit(code)
}

MemoryPolicy.apply()
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    switch arguments.first {
    case "tokenize": try Tokenize.run(Array(arguments.dropFirst()))
    case "generate": try Generate.run(Array(arguments.dropFirst()))
    case "perplexity": try PerplexityCommand.run(Array(arguments.dropFirst()))
    case "bench": try Bench.run(Array(arguments.dropFirst()))
    case "serve": try Serve.run(Array(arguments.dropFirst()))
    case "keys": try Keys.run(Array(arguments.dropFirst()))
    case "audit": try Audit.run(Array(arguments.dropFirst()))
    case "-h", "--help", "help": print(usage)
    case nil: fail("missing command (tokenize, generate, perplexity, bench, serve, keys or audit); see 'inference-server --help'")
    default: fail("unknown command '\(SafeText.quoted(arguments[0]))' (tokenize, generate, perplexity, bench, serve, keys or audit); see 'inference-server --help'")
    }
} catch let help as Arguments.HelpRequested {
    print(help.usage)
} catch {
    let report = UserFacingReport(error)
    fail(report.message, code: report.exitCode)
}
