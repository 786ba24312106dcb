import Foundation
import InferenceEngine

/// The parameters of a completion or chat completion request, checked as OpenAI checks them: each invalid one is
/// a 400 that names it in `param`.
public struct CompletionParameters {
    public var model: String?
    /// The prompt (completions) or the conversation (chat).
    public var prompt: String?
    public var messages: [ChatMessage]?
    public var maxTokens: Int?
    public var sampling = SamplingSettings()
    public var stop: [String] = []
    public var stream = false
    public var includeUsage = false
    /// Log-probabilities asked for: nil none, n the chosen token's and the n most likely (chat `logprobs: true`
    /// with `top_logprobs`, completions `logprobs: n`).
    public var logprobs: Int?
    public var responseFormat = ResponseFormat.text
    /// The sampling parameters as given, for the audit log.
    public var recorded: [String: AuditValue] = [:]

    /// Every parameter a request may carry. llama-server ignores a parameter it does not know; we refuse one
    /// (OpenAI's own answer), since an ignored parameter may be one meant to change the output.
    static let common: Set<String> = [
        "model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty",
        "seed", "n", "stop", "stream", "stream_options", "logprobs", "logit_bias", "response_format",
        // accepted and without effect on the output
        "user", "metadata", "store", "service_tier", "safety_identifier", "prompt_cache_key",
        // refused below unless empty or off
        "best_of", "echo", "suffix", "tools", "tool_choice", "functions", "function_call", "parallel_tool_calls", "modalities", "audio",
        "prediction",
    ]
    static let chatOnly: Set<String> = ["messages", "max_completion_tokens", "top_logprobs"]
    static let completionOnly: Set<String> = ["prompt"]

    public static func parse(_ body: [UInt8], chat: Bool) throws(APIError) -> CompletionParameters {
        let object = try JSONBody.object(body)
        var parameters = CompletionParameters()
        parameters.sampling = SamplingSettings()
        parameters.sampling.temperature = 1
        parameters.sampling.topK = 0
        parameters.sampling.topP = 1
        parameters.sampling.minP = 0
        parameters.sampling.seed = UInt64.random(in: 0...UInt64(UInt32.max))
        let known = common.union(chat ? chatOnly : completionOnly)
        for key in object.keys.sorted() where !known.contains(key) {
            let hint = (chat ? completionOnly : chatOnly).contains(key) ? " on \(chat ? "/v1/chat/completions" : "/v1/completions")" : ""
            throw .invalid("unrecognized request argument supplied: '\(key.prefix(64))'\(hint)", param: String(key.prefix(64)),
                           code: "unknown_parameter")
        }
        try refuseUnsupported(object)
        var reader = Reader(object: object)
        parameters.model = try reader.string("model")
        if chat {
            guard let raw = object["messages"] else { throw .invalid("'messages' is required", param: "messages") }
            parameters.messages = try Self.messages(raw)
        } else {
            guard let raw = object["prompt"] else { throw .invalid("'prompt' is required", param: "prompt") }
            if let text = raw as? String {
                parameters.prompt = text
            } else if let list = raw as? [Any], list.count == 1, let text = list[0] as? String {
                parameters.prompt = text
            } else {
                throw .invalid("'prompt' must be a string (or a list of one string)", param: "prompt")
            }
        }
        parameters.maxTokens = try reader.int("max_completion_tokens", 1...1_000_000)
        if parameters.maxTokens == nil { parameters.maxTokens = try reader.int("max_tokens", 1...1_000_000) }
        if let value = try reader.number("temperature", 0...2) { parameters.sampling.temperature = Float(value) }
        if let value = try reader.number("top_p", 0...1, open: true) { parameters.sampling.topP = Float(value) }
        if let value = try reader.int("top_k", 0...1_000_000) { parameters.sampling.topK = value }
        if let value = try reader.number("min_p", 0...1) { parameters.sampling.minP = Float(value) }
        if let value = try reader.number("presence_penalty", -2...2) { parameters.sampling.presencePenalty = Float(value) }
        if let value = try reader.number("frequency_penalty", -2...2) { parameters.sampling.frequencyPenalty = Float(value) }
        if let value = try reader.number("repetition_penalty", 0.01...10) { parameters.sampling.repetitionPenalty = Float(value) }
        if let seed = try reader.int("seed", Int.min...Int.max) { parameters.sampling.seed = UInt64(bitPattern: Int64(seed)) }
        if let n = try reader.int("n", 1...128), n != 1 { throw .invalid("'n' is not supported: only n = 1", param: "n", code: "unsupported_parameter") }
        switch object["stop"] {
        case nil, is NSNull: break
        case let text as String: parameters.stop = [text]
        case let list as [Any]:
            guard list.count <= 4, let texts = list as? [String] else {
                throw .invalid("'stop' must be a string or a list of up to 4 strings", param: "stop")
            }
            parameters.stop = texts
        default: throw .invalid("'stop' must be a string or a list of up to 4 strings", param: "stop")
        }
        parameters.stream = try reader.bool("stream") ?? false
        if let options = object["stream_options"], !(options is NSNull) {
            guard let fields = options as? [String: Any] else { throw .invalid("'stream_options' must be an object", param: "stream_options") }
            guard parameters.stream else { throw .invalid("'stream_options' is only allowed with stream: true", param: "stream_options") }
            var optionReader = Reader(object: fields, prefix: "stream_options.")
            parameters.includeUsage = try optionReader.bool("include_usage") ?? false
        }
        if chat {
            let wanted = try reader.bool("logprobs") ?? false
            let top = try reader.int("top_logprobs", 0...20)
            if top != nil, !wanted { throw .invalid("'top_logprobs' needs 'logprobs': true", param: "top_logprobs") }
            if wanted { parameters.logprobs = top ?? 0 }
        } else {
            parameters.logprobs = try reader.int("logprobs", 0...5)
        }
        if let raw = object["logit_bias"], !(raw is NSNull) {
            parameters.sampling.logitBias = try Self.logitBias(raw)
        }
        if let raw = object["response_format"], !(raw is NSNull) {
            parameters.responseFormat = try ResponseFormat.parse(raw)
            if parameters.responseFormat.grammar != nil, !parameters.stop.isEmpty {
                throw .invalid("'stop' cannot be combined with a JSON 'response_format': a stop sequence would cut the document short",
                               param: "stop")
            }
        }
        parameters.recorded = reader.seen.mapValues(AuditValue.init(parsed:))
        if !parameters.sampling.logitBias.isEmpty {
            // as the sampler applies it, [id, bias] pairs by id: the audit log then has no map of ids to sort
            parameters.recorded["logit_bias"] = .array(zip(parameters.sampling.logitBias.tokens, parameters.sampling.logitBias.biases)
                .map { .array([.int(Int($0)), .double(Double($1))]) })
        }
        if !parameters.stop.isEmpty { parameters.recorded["stop"] = .array(parameters.stop.map(AuditValue.string)) }
        if object["response_format"] != nil { parameters.recorded["response_format"] = parameters.responseFormat.recorded }
        return parameters
    }

    /// The parameters this server does not implement, each a 400 naming it unless given empty or switched off.
    static func refuseUnsupported(_ object: [String: Any]) throws(APIError) {
        func given(_ key: String) -> Any? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            return value
        }
        func refuse(_ key: String, _ why: String) -> APIError {
            .invalid("'\(key)' is not supported: \(why)", param: key, code: "unsupported_parameter")
        }
        for key in ["tools", "functions"] {
            if let value = given(key), !((value as? [Any])?.isEmpty ?? false) { throw refuse(key, "this server does not call tools") }
        }
        if let value = given("tool_choice"), value as? String != "none" { throw refuse("tool_choice", "this server does not call tools (only \"none\")") }
        if let value = given("function_call"), value as? String != "none" { throw refuse("function_call", "this server does not call functions (only \"none\")") }
        if let value = given("parallel_tool_calls"), (value as? NSNumber)?.boolValue != false || !(value is NSNumber) {
            throw refuse("parallel_tool_calls", "this server does not call tools (only false)")
        }
        if let value = given("best_of"), (value as? NSNumber).map({ Reader.isBool($0) || $0.doubleValue != 1 }) ?? true {
            throw refuse("best_of", "only best_of = 1")
        }
        if let value = given("echo"), (value as? NSNumber).map({ !Reader.isBool($0) || $0.boolValue }) ?? true {
            throw refuse("echo", "the prompt is not echoed (only false)")
        }
        if let value = given("suffix"), (value as? String)?.isEmpty != true { throw refuse("suffix", "there is no insertion mode") }
        if let value = given("modalities"), (value as? [String]).map({ $0 != ["text"] }) ?? true {
            throw refuse("modalities", "text is the only output (only [\"text\"])")
        }
        for key in ["audio", "prediction"] where given(key) != nil {
            throw refuse(key, key == "audio" ? "there is no audio output" : "there are no predicted outputs")
        }
    }

    /// The most entries a `logit_bias` may have. Enough to ban or favour any word list a prompt would; a bias
    /// over the whole vocabulary of a large model would otherwise be megabytes to check, record and apply.
    public static let logitBiasLimit = 1_024

    /// `logit_bias` as the sampler applies it (ids ascending), built here on the connection's thread.
    static func logitBias(_ raw: Any) throws(APIError) -> LogitBias {
        guard let object = raw as? [String: Any] else {
            throw .invalid("'logit_bias' must be an object of token ids to numbers from -100 to 100", param: "logit_bias")
        }
        guard object.count <= logitBiasLimit else {
            throw .invalid("'logit_bias' has \(object.count) entries; at most \(logitBiasLimit) are allowed", param: "logit_bias")
        }
        var bias: [(Int, Float)] = []
        bias.reserveCapacity(object.count)
        for (key, value) in object {
            guard let id = Int(key), id >= 0, String(id) == key else {
                throw .invalid("'logit_bias' key '\(key.prefix(32))' is not a token id", param: "logit_bias")
            }
            guard let number = value as? NSNumber, !Reader.isBool(number), number.doubleValue.isFinite, (-100...100).contains(number.doubleValue) else {
                throw .invalid("'logit_bias' of token \(id) must be a number from -100 to 100", param: "logit_bias")
            }
            bias.append((id, Float(number.doubleValue)))
        }
        return LogitBias(bias)
    }

    static func messages(_ raw: Any) throws(APIError) -> [ChatMessage] {
        guard let list = raw as? [Any], !list.isEmpty else { throw .invalid("'messages' must be a non-empty list", param: "messages") }
        var messages: [ChatMessage] = []
        for (index, item) in list.enumerated() {
            guard let message = item as? [String: Any], let role = message["role"] as? String else {
                throw .invalid("messages[\(index)] needs a 'role'", param: "messages[\(index)].role")
            }
            guard ["system", "developer", "user", "assistant"].contains(role) else {
                throw .invalid("messages[\(index)].role '\(role)' is not system, developer, user or assistant", param: "messages[\(index)].role")
            }
            let content: String
            switch message["content"] {
            case let text as String: content = text
            case let parts as [Any]:
                var text = ""
                for (number, part) in parts.enumerated() {
                    guard let part = part as? [String: Any], let type = part["type"] as? String else {
                        throw .invalid("messages[\(index)].content[\(number)] needs a 'type'", param: "messages[\(index)].content")
                    }
                    guard type == "text", let piece = part["text"] as? String else {
                        throw .invalid("messages[\(index)].content[\(number)]: '\(type.prefix(32))' parts are not supported (only text)",
                                       param: "messages[\(index)].content", code: "unsupported_content")
                    }
                    text += piece
                }
                content = text
            default:
                throw .invalid("messages[\(index)] needs a 'content' string", param: "messages[\(index)].content")
            }
            messages.append(ChatMessage(role: role == "developer" ? "system" : role, content: content))
        }
        return messages
    }

    /// Typed access to the body's fields, remembering what was given.
    struct Reader {
        let object: [String: Any]
        var prefix = ""
        var seen: [String: Any] = [:]

        mutating func value(_ key: String) -> Any? {
            guard let value = object[key], !(value is NSNull) else { return nil }
            seen[key] = value
            return value
        }

        mutating func string(_ key: String) throws(APIError) -> String? {
            guard let value = value(key) else { return nil }
            guard let text = value as? String else { throw .invalid("'\(prefix)\(key)' must be a string", param: prefix + key) }
            return text
        }

        mutating func bool(_ key: String) throws(APIError) -> Bool? {
            guard let value = value(key) else { return nil }
            guard let number = value as? NSNumber, Self.isBool(number) else {
                throw .invalid("'\(prefix)\(key)' must be true or false", param: prefix + key)
            }
            return number.boolValue
        }

        /// JSON's true and false, which Foundation decodes as NSNumbers of type `c`, unlike 1 and 0.
        static func isBool(_ number: NSNumber) -> Bool {
            String(cString: number.objCType) == "c"
        }

        mutating func number(_ key: String, _ range: ClosedRange<Double>, open: Bool = false) throws(APIError) -> Double? {
            guard let value = value(key) else { return nil }
            guard let number = value as? NSNumber, !Self.isBool(number), number.doubleValue.isFinite, range.contains(number.doubleValue),
                  !(open && number.doubleValue == range.lowerBound) else {
                let bounds = open ? "greater than \(range.lowerBound) and at most \(range.upperBound)" : "from \(range.lowerBound) to \(range.upperBound)"
                throw .invalid("'\(prefix)\(key)' must be a number \(bounds)", param: prefix + key)
            }
            return number.doubleValue
        }

        mutating func int(_ key: String, _ range: ClosedRange<Int>) throws(APIError) -> Int? {
            guard let value = value(key) else { return nil }
            guard let number = value as? NSNumber, !Self.isBool(number), number.doubleValue.rounded() == number.doubleValue,
                  abs(number.doubleValue) < 9.2e18, range.contains(number.intValue) else {
                throw .invalid("'\(prefix)\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound)", param: prefix + key)
            }
            return number.intValue
        }
    }
}
