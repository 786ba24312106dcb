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
    /// The sampling parameters as given, for the audit log.
    public var recorded: [String: Any] = [:]

    public static func parse(_ body: [UInt8], chat: Bool) throws(APIError) -> CompletionParameters {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw .invalid("the body is not a JSON object", param: nil)
        }
        var parameters = CompletionParameters()
        parameters.sampling = SamplingSettings()
        parameters.sampling.temperature = 1
        parameters.sampling.topK = 0
        parameters.sampling.topP = 1
        parameters.sampling.minP = 0
        parameters.sampling.seed = UInt64.random(in: 0...UInt64(UInt32.max))
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
        if let n = try reader.int("n", 1...1), n != 1 { throw .invalid("only n = 1 is supported", param: "n") }
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
        parameters.recorded = reader.seen
        if !parameters.stop.isEmpty { parameters.recorded["stop"] = parameters.stop }
        return parameters
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
                for part in parts {
                    guard let part = part as? [String: Any], part["type"] as? String == "text", let piece = part["text"] as? String else {
                        throw .invalid("messages[\(index)].content: only text parts are supported", param: "messages[\(index)].content")
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
