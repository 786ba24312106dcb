import Foundation
import Diagnostics

/// One turn of a conversation.
public struct ChatMessage: Sendable, Codable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The built-in chat formats, which turn messages into the prompt a model was tuned on. The format is detected
/// from the model's `tokenizer.chat_template` the way llama.cpp's built-in detection does (by tell-tale markers, not
/// by running the Jinja template), and can be named instead.
public enum ChatTemplate: Sendable, Equatable {
    case chatml
    case llama3
    /// Llama 2: `[INST] … [/INST]`, with or without a `<<SYS>>` block, BOS before later turns, stripped contents.
    case llama2(system: Bool, bosInHistory: Bool, strip: Bool)
    case mistralV3
    case mistralV7
    case phi3
    /// Gemma: `<start_of_turn>user` … `<end_of_turn>`, the assistant called `model`, a system message folded into the
    /// next user turn, contents trimmed.
    case gemma

    /// The names `--chat-template` accepts, as llama.cpp spells them.
    public static let names = ["chatml", "llama3", "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip", "mistral-v3", "mistral-v7", "phi3", "gemma"]

    public init?(name: String) {
        switch name {
        case "chatml": self = .chatml
        case "llama3": self = .llama3
        case "llama2": self = .llama2(system: false, bosInHistory: false, strip: false)
        case "llama2-sys": self = .llama2(system: true, bosInHistory: false, strip: false)
        case "llama2-sys-bos": self = .llama2(system: true, bosInHistory: true, strip: false)
        case "llama2-sys-strip": self = .llama2(system: true, bosInHistory: false, strip: true)
        case "mistral-v3": self = .mistralV3
        case "mistral-v7": self = .mistralV7
        case "phi3": self = .phi3
        case "gemma": self = .gemma
        default: return nil
        }
    }

    public struct Unknown: Error, CustomStringConvertible {
        public var description: String
    }

    /// The format a Jinja chat template is written for, or an error that says how to name one. A file without a
    /// template gets its architecture's own format where it has one (gemma's turns for gemma3).
    public static func detect(_ template: String?, architecture: String? = nil) throws(Unknown) -> ChatTemplate {
        guard let template, !template.isEmpty else {
            if architecture?.hasPrefix("gemma") == true { return .gemma }
            throw Unknown(description: "the model has no tokenizer.chat_template; name a format with --chat-template (\(names.joined(separator: ", ")))")
        }
        func has(_ marker: String) -> Bool { template.contains(marker) }
        if has("<|im_start|>") { return .chatml }
        if has("[INST]") {
            if has("[SYSTEM_PROMPT]") { return .mistralV7 }
            if has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]") { return .mistralV3 }
            return .llama2(system: has("<<SYS>>"), bosInHistory: has("bos_token + '[INST]"), strip: has("content.strip()"))
        }
        if has("<|assistant|>") && has("<|end|>") { return .phi3 }
        if has("<|start_header_id|>") && has("<|end_header_id|>") { return .llama3 }
        if has("<start_of_turn>") { return .gemma }
        throw Unknown(description: "the model's chat template is not one of the built-in formats; name one with --chat-template (\(names.joined(separator: ", ")))")
    }

    /// The prompt for `messages`, ending where the assistant's reply begins when `addAssistant`.
    public func render(_ messages: [ChatMessage], addAssistant: Bool = true) -> String {
        renderMarked(messages, addAssistant: addAssistant).text
    }

    /// A prompt, with where the messages' own text stands in it (as UTF-8 byte ranges): the format's markup around
    /// them may hold control tokens, the messages may not unless the server allows it.
    public struct Rendered: Sendable, Equatable {
        public var text = ""
        public var contentRanges: [Range<Int>] = []

        mutating func markup(_ piece: String) { text += piece }

        mutating func content(_ piece: String) {
            let start = text.utf8.count
            text += piece
            if !piece.isEmpty { contentRanges.append(start..<text.utf8.count) }
        }
    }

    /// The prompt for `messages` with the ranges of their content marked.
    public func renderMarked(_ messages: [ChatMessage], addAssistant: Bool = true) -> Rendered {
        var out = Rendered()
        switch self {
        case .chatml:
            for m in messages {
                out.markup("<|im_start|>\(m.role)\n")
                out.content(m.content)
                out.markup("<|im_end|>\n")
            }
            if addAssistant { out.markup("<|im_start|>assistant\n") }
        case .llama3:
            for m in messages {
                out.markup("<|start_header_id|>\(m.role)<|end_header_id|>\n\n")
                out.content(Self.trimmed(m.content))
                out.markup("<|eot_id|>")
            }
            if addAssistant { out.markup("<|start_header_id|>assistant<|end_header_id|>\n\n") }
        case .phi3:
            for m in messages {
                out.markup("<|\(m.role)|>\n")
                out.content(m.content)
                out.markup("<|end|>\n")
            }
            if addAssistant { out.markup("<|assistant|>\n") }
        case let .llama2(system, bosInHistory, strip):
            out.markup("[INST] ")
            var insideTurn = true
            for m in messages {
                let content = strip ? m.content.trimmingCharacters(in: .whitespacesAndNewlines) : m.content
                if !insideTurn {
                    out.markup(bosInHistory ? "<s>[INST] " : "[INST] ")
                    insideTurn = true
                }
                switch m.role {
                case "system":
                    out.markup(system ? "<<SYS>>\n" : "")
                    out.content(content)
                    out.markup(system ? "\n<</SYS>>\n\n" : "\n")
                case "user":
                    out.content(content)
                    out.markup(" [/INST]")
                default:
                    out.content(content)
                    out.markup("</s>")
                    insideTurn = false
                }
            }
        case .mistralV3:
            var insideTurn = false
            for m in messages {
                if !insideTurn {
                    out.markup("[INST] ")
                    insideTurn = true
                }
                switch m.role {
                case "system":
                    out.content(m.content)
                    out.markup("\n\n")
                case "user":
                    out.content(m.content)
                    out.markup("[/INST]")
                default:
                    out.markup(" ")
                    out.content(m.content.trimmingCharacters(in: .whitespacesAndNewlines))
                    out.markup("</s>")
                    insideTurn = false
                }
            }
        case .gemma:
            var system = ""
            for m in messages {
                if m.role == "system" {
                    system += Self.trimmed(m.content)
                    continue
                }
                let role = m.role == "assistant" ? "model" : m.role
                out.markup("<start_of_turn>\(role)\n")
                if !system.isEmpty && role != "model" {
                    out.content(system)
                    out.markup("\n\n")
                    system = ""
                }
                out.content(Self.trimmed(m.content))
                out.markup("<end_of_turn>\n")
            }
            if addAssistant { out.markup("<start_of_turn>model\n") }
        case .mistralV7:
            for m in messages {
                switch m.role {
                case "system":
                    out.markup("[SYSTEM_PROMPT] ")
                    out.content(m.content)
                    out.markup("[/SYSTEM_PROMPT]")
                case "user":
                    out.markup("[INST] ")
                    out.content(m.content)
                    out.markup("[/INST]")
                default:
                    out.markup(" ")
                    out.content(m.content)
                    out.markup("</s>")
                }
            }
        }
        return out
    }

    /// `text` without the ASCII white space (C's `isspace`) at either end, as llama.cpp trims turns.
    static func trimmed(_ text: String) -> String {
        let bytes = Array(text.utf8)
        func space(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        guard let start = bytes.firstIndex(where: { !space($0) }), let end = bytes.lastIndex(where: { !space($0) }) else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}

extension ChatTemplate.Unknown: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
