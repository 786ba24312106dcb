import Foundation
import InferenceEngine

// inference-server: the engine's command line (tokenize, generate, bench); the HTTP API comes next.
let usage = """
    USAGE: inference-server tokenize --model FILE --text TEXT [--add-bos] [--no-parse-special]
           inference-server generate --model FILE --prompt TEXT [--max-tokens N] [--temperature T] [--top-k K]
                                     [--top-p P] [--min-p P] [--repeat-penalty R] [--presence-penalty P]
                                     [--frequency-penalty F] [--seed S] [--stop TEXT]... [--threads N] [--ctx N]
                                     [--chat [--system TEXT] [--chat-template NAME]]
           inference-server bench --model FILE [-p 512] [-n 128] [-r 3] [--threads N] [--output text|json]
    """

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
    case "bench": try Bench.run(Array(arguments.dropFirst()))
    case nil, "-h", "--help", "help": print(usage)
    default: fail("unknown command '\(arguments[0])'\n\(usage)")
    }
} catch let error as Arguments.Invalid {
    fail(error.description)
} catch let error as GGUFError {
    fail(error.description)
} catch let error as ModelError {
    fail(error.description)
} catch let error as ChatTemplate.Unknown {
    fail(error.description)
} catch let error as BytePairTokenizer.Unsupported {
    fail(error.description)
} catch {
    fail("\(error)", code: 1)
}
