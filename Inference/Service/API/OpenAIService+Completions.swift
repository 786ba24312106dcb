import Guardrails
import Hashing
import Foundation
import InferenceEngine

/// `/v1/completions` and `/v1/chat/completions`: a whole JSON answer, or OpenAI's server-sent events (a first chunk
/// with the role, content deltas in whole characters, a chunk with the finish reason, the usage chunk when asked,
/// then `data: [DONE]`).
extension OpenAIService {
    func complete(_ request: HTTPRequest, chat: Bool, model: ServedModel, record: inout Record) throws(APIError) -> HTTPResponse {
        var parameters = try CompletionParameters.parse(request.body, chat: chat)
        // ascending ids: the last is the largest
        if let outside = parameters.sampling.logitBias.tokens.last, Int(outside) >= model.tokenizer.size {
            throw .invalid("'logit_bias' names token \(outside), which is not in the vocabulary (ids 0 to \(model.tokenizer.size - 1))",
                           param: "logit_bias")
        }
        if parameters.sampling.logitBias.bannedCount(below: model.tokenizer.size) == model.tokenizer.size {
            throw .invalid("'logit_bias' bans every token of the vocabulary (\(model.tokenizer.size)), leaving nothing to generate",
                           param: "logit_bias")
        }
        parameters.sampling.logprobs = parameters.logprobs
        if let name = parameters.model, name != model.id {
            throw .notFound("the model '\(name)' does not exist; this server serves '\(model.id)'", code: "model_not_found")
        }
        try Self.checkPromptSize(bytes: parameters.messages.map { $0.reduce(0) { $0 + $1.content.utf8.count } } ?? parameters.prompt?.utf8.count ?? 0,
                                 model: model, param: chat ? "messages" : "prompt")
        var guardrails = guardrails(for: record.entry.identity)
        // a stream records its guardrails when it ends
        var streaming = false
        defer { if !streaming { recordGuardrails(guardrails, &record) } }
        if parameters.logprobs != nil, guardrails.map({ !$0.output.isEmpty }) == true {
            throw .invalid("'logprobs' cannot be asked for under this key's guardrail policy: the log-probabilities spell out the tokens "
                           + "its output rules judge", param: "logprobs", code: "guardrail_logprobs")
        }
        let text: String
        // where the caller's own text stands: a control token spelled there is text unless the policy allows it
        let literal: [Range<Int>]
        if var messages = parameters.messages {
            for index in messages.indices where guardrails != nil {
                messages[index].content = try guardrails!.filterInput(messages[index].content, param: "messages[\(index)].content")
            }
            switch model.chatTemplate {
            case .success(let template):
                let rendered = template.renderMarked(messages)
                text = rendered.text
                literal = rendered.contentRanges
            case .failure(let reason):
                throw .invalid("chat completions need a chat format: \(reason.description); /v1/completions takes plain text", param: "messages",
                               code: "no_chat_template")
            }
        } else {
            text = try guardrails?.filterInput(parameters.prompt ?? "", param: "prompt") ?? parameters.prompt ?? ""
            literal = [0..<text.utf8.count]
        }
        try Self.checkPromptSize(text, model: model, param: chat ? "messages" : "prompt")
        let prompt = model.tokenizer.encode(text, addBOS: true, parseSpecial: true,
                                            literal: guardrails?.profile.allowControlTokens == true ? [] : literal)
        guard !prompt.isEmpty else { throw .invalid("the prompt is empty", param: chat ? "messages" : "prompt") }
        guard prompt.count < model.context else {
            throw .invalid("the prompt has \(prompt.count) tokens; the context holds \(model.context), leaving no room to generate",
                           param: chat ? "messages" : "prompt", code: "context_length_exceeded")
        }
        let maxTokens = min(parameters.maxTokens ?? Int.max, model.context - prompt.count)
        // stop sequences judged before the record holds them: a blocked one must not reach the audit log raw
        var recorded = parameters.recorded.filter { $0.key != "messages" && $0.key != "prompt" }
        if guardrails != nil, !parameters.stop.isEmpty {
            var judged: [AuditValue] = []
            for stop in parameters.stop { judged.append(.string(try guardrails!.filterStop(stop))) }
            recorded["stop"] = .array(judged)
        }
        record.entry.parameters = recorded
        record.entry.prompt = auditContent(text)
        record.entry.promptTokens = prompt.count
        let quota = try reserveQuota(guardrails, tokens: prompt.count + maxTokens, record: &record)

        let channel = EventChannel()
        let cancellation = Cancellation()
        let completion = CompletionRequest(prompt: prompt, sampling: parameters.sampling, maxTokens: maxTokens, stop: parameters.stop,
                                           constraint: parameters.responseFormat.grammar, cancellation: cancellation) { channel.send($0) }
        do {
            try model.scheduler.submit(completion)
        } catch {
            quota?.settle(usedTokens: 0)
            switch error {
            case .busy: throw .rateLimited(retryAfter: 1, "every slot is busy and the queue is full; retry shortly")
            case .stopping: throw .unavailable("the server is shutting down")
            case .promptTooLong(let tokens, let context):
                throw .invalid("the prompt has \(tokens) tokens; the context holds \(context)", param: chat ? "messages" : "prompt",
                               code: "context_length_exceeded")
            case .emptyPrompt: throw .invalid("the prompt is empty", param: chat ? "messages" : "prompt")
            }
        }
        let identity = Identity(id: (chat ? "chatcmpl-" : "cmpl-") + record.id.dropFirst(4), created: Int(Date().timeIntervalSince1970),
                                model: model.id, chat: chat)
        let logprobs = parameters.logprobs.map { _ in LogprobsRenderer(tokenizer: model.tokenizer, chat: chat) }
        if parameters.stream {
            streaming = true
            let started = record, includeUsage = parameters.includeUsage, judging = guardrails
            return HTTPResponse(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")],
                                body: .stream { [self] writer in
                                    stream(identity, channel: channel, cancellation: cancellation, includeUsage: includeUsage,
                                           logprobs: logprobs, writer: writer, record: started,
                                           policy: StreamPolicy(guardrails: judging, quota: quota, promptTokens: prompt.count))
                                })
        }
        var output = ""
        var tokens: [GeneratedToken] = []
        while true {
            for event in channel.receive(timeout: 0.1) {
                switch event {
                case .text(let piece): output += piece
                case .token(let token): tokens.append(token)
                case .failed(let message):
                    quota?.settle(usedTokens: prompt.count + tokenCount(output))
                    throw APIError(status: 500, message: "generation failed: \(message)", type: "server_error", param: nil, code: nil)
                case .unsatisfiable(let message):
                    quota?.settle(usedTokens: prompt.count + tokenCount(output))
                    throw Self.unsatisfiable(message)
                case .finished(let summary):
                    quota?.settle(usedTokens: summary.promptTokens + summary.completionTokens)
                    // the audit log keeps the answer as the output rules left it; the caller gets its own values back
                    let judged: (model: String, caller: String)
                    do {
                        judged = try guardrails?.filterOutput(output) ?? (output, output)
                    } catch {
                        recordCompletion(&record, "", summary)
                        throw error
                    }
                    recordCompletion(&record, judged.model, summary)
                    let output = judged.caller
                    let usage = Self.usage(summary)
                    var offset = 0
                    let rendered: Any = logprobs.map { $0.render(tokens, offset: &offset) } ?? NSNull()
                    let choice: [String: Any] = chat
                        ? ["index": 0, "message": ["role": "assistant", "content": output], "finish_reason": summary.finishReason.rawValue,
                           "logprobs": rendered]
                        : ["index": 0, "text": output, "finish_reason": summary.finishReason.rawValue, "logprobs": rendered]
                    return Self.json(200, identity.object(choices: [choice], usage: usage, chunk: false))
                }
            }
            // a reset, or a FIN that an interim response proves to be a close: a half-closed client still reads
            if request.clientGone() {
                cancellation.cancel()
                quota?.settle(usedTokens: prompt.count + tokenCount(output))
                record.entry.completed = false
                // a whole answer goes out only at the end: the client left with nothing of it
                record.entry.clientDisconnected = true
                record.entry.completion = auditContent("")
                record.entry.completionTokens = 0
                throw APIError(status: 499, message: "the client closed the connection", type: "client_closed", param: nil, code: nil)
            }
        }
    }

    /// A request whose logit bias left no token to emit (with its response format): the client's error, a 400.
    static func unsatisfiable(_ message: String) -> APIError {
        .invalid("generation stopped: \(message)", param: "logit_bias", code: "no_token_allowed")
    }

    /// The response's id, time, model and kind, which every chunk repeats.
    struct Identity {
        var id: String
        var created: Int
        var model: String
        var chat: Bool

        func object(choices: [[String: Any]], usage: Any?, chunk: Bool) -> [String: Any] {
            var object: [String: Any] = ["id": id, "created": created, "model": model, "choices": choices,
                                         "object": chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion",
                                         "system_fingerprint": "inference-server"]
            if let usage { object["usage"] = usage }
            return object
        }
    }

    static func usage(_ summary: CompletionSummary) -> [String: Any] {
        ["prompt_tokens": summary.promptTokens, "completion_tokens": summary.completionTokens,
         "total_tokens": summary.promptTokens + summary.completionTokens,
         "prompt_tokens_details": ["cached_tokens": summary.reusedPromptTokens]]
    }

    /// What a stream carries on from the request: its guardrails, its quota, its prompt's length.
    struct StreamPolicy {
        var guardrails: Guardrails?
        var quota: QuotaHold?
        var promptTokens: Int
    }

    private func stream(_ identity: Identity, channel: EventChannel, cancellation: Cancellation, includeUsage: Bool,
                        logprobs: LogprobsRenderer?, writer: ChunkWriter, record: Record, policy: StreamPolicy) {
        var record = record
        var guardrails = policy.guardrails
        var holdBack = guardrails?.streamGuard
        // tokens whose log-probabilities have not gone out yet: each content chunk carries those that came before it
        var pending: [GeneratedToken] = []
        var offset = 0
        func send(_ object: Any) -> Bool { writer.write(Array("data: ".utf8) + JSONBody.encode(object) + Array("\n\n".utf8)) }
        func chunk(_ delta: [String: Any]?, text: String? = nil, finish: String? = nil) -> [String: Any] {
            var choice: [String: Any] = ["index": 0, "finish_reason": finish as Any? ?? NSNull(), "logprobs": NSNull()]
            if let logprobs, finish == nil, delta?["role"] == nil {
                choice["logprobs"] = logprobs.render(pending, offset: &offset)
                pending = []
            }
            if identity.chat { choice["delta"] = delta ?? [:] } else { choice["text"] = text ?? "" }
            return identity.object(choices: [choice], usage: includeUsage ? NSNull() : nil, chunk: true)
        }
        // output: what the model wrote; judged: what the output rules let out of it (the audit log's answer);
        // delivered: what of that reached the client, as judged (never with the caller's restored values)
        var output = "", judged = "", delivered = ""
        var open = !identity.chat || send(chunk(["role": "assistant", "content": ""]))
        var summary: CompletionSummary?
        var failure: APIError?
        /// Passes the model's text through the hold-back window (or the whole rest, at the end) and sends what it releases.
        func release(_ piece: String?) {
            var outgoing = piece ?? ""
            if var window = holdBack, guardrails != nil {
                let start = ContinuousClock.now
                outgoing = piece.map { window.push($0, placeholders: &guardrails!.placeholders) } ?? window.finish(placeholders: &guardrails!.placeholders)
                guardrails!.elapsed += ContinuousClock.now - start
                holdBack = window
                if let rule = window.blockedBy {
                    failure = Guardrails.blocked(rule, window.trace.decisions, .output, param: nil, unjudged: window.unjudgedReason)
                    return
                }
            }
            judged += outgoing
            let shown = guardrails?.restored(outgoing) ?? outgoing
            guard !shown.isEmpty, open else { return }
            open = send(chunk(["content": shown], text: shown))
            if open { delivered += outgoing }
        }
        while open, summary == nil, failure == nil {
            for event in channel.receive(timeout: 0.1) where failure == nil {
                switch event {
                case .text(let piece):
                    output += piece
                    release(piece)
                case .token(let token): pending.append(token)
                case .finished(let finished): summary = finished
                case .failed(let message): failure = APIError(status: 500, message: "generation failed: \(message)", type: "server_error")
                case .unsatisfiable(let message): failure = Self.unsatisfiable(message)
                }
            }
            if writer.clientGone { open = false }
        }
        if summary != nil, failure == nil { release(nil) }
        if let window = holdBack { guardrails?.trace.add(window.trace.decisions) }
        // log-probabilities of tokens whose text was held back (a stop sequence's beginning) or empty
        if summary != nil, failure == nil, open, !pending.isEmpty, logprobs != nil { open = send(chunk(["content": ""], text: "")) }
        if summary == nil || failure != nil || !open { cancellation.cancel() }
        policy.quota?.settle(usedTokens: summary.map { $0.promptTokens + $0.completionTokens } ?? policy.promptTokens + tokenCount(output))
        if let summary { recordCompletion(&record, judged, summary) }
        if !open {
            // what reached the client, not what was generated: the text sent before it went away, and its tokens
            record.entry.clientDisconnected = true
            record.entry.completion = auditContent(delivered)
            record.entry.completionTokens = tokenCount(delivered)
        }
        let completed = open && summary != nil && failure == nil
        record.entry.completed = completed
        record.entry.stream = true
        recordGuardrails(guardrails, &record)
        // the record is on disk before the closing events: a client that saw [DONE] was served on the record
        let recorded = finish(&record, status: completed ? 200 : (failure?.status ?? 499))
        guard open else { return }
        guard recorded else {
            _ = send(APIError.unavailable("the audit log cannot be written; the answer is not confirmed").body)
            return
        }
        if let failure {
            _ = send(failure.body)
        } else if let summary {
            open = send(chunk(identity.chat ? [:] : nil, finish: summary.finishReason.rawValue))
            if includeUsage, open { open = send(identity.object(choices: [], usage: Self.usage(summary), chunk: true)) }
            if open { _ = writer.write(Array("data: [DONE]\n\n".utf8)) }
        }
    }

    private func recordCompletion(_ record: inout Record, _ output: String, _ summary: CompletionSummary) {
        record.entry.completion = auditContent(output)
        record.entry.completionTokens = summary.completionTokens
        record.entry.reusedPromptTokens = summary.reusedPromptTokens
        record.entry.finishReason = summary.finishReason.rawValue
        metrics.generation(promptTokens: summary.promptTokens, generatedTokens: summary.completionTokens,
                           reusedPromptTokens: summary.reusedPromptTokens, timeToFirstToken: summary.timeToFirstToken,
                           secondsPerToken: summary.secondsPerToken)
    }

    /// The tokens of `text` as the served model's tokenizer reads it (the count of a stream cut short, whose
    /// generated tokens the scheduler no longer reports).
    private func tokenCount(_ text: String) -> Int {
        text.isEmpty ? 0 : model?.tokenizer.encode(text, addBOS: false, parseSpecial: false).count ?? 0
    }

    /// The text itself, or only its SHA-256 with `--audit-content digest`.
    private func auditContent(_ text: String) -> AuditRecord.Content {
        options.audit?.content == .digest ? .digest(sha256: SHA256.hex(text), characters: text.count) : .text(text)
    }
}
