extension OpenAIService {
    /// Refuses, before tokenizing it, a prompt whose length in bytes alone shows it cannot fit the context: no token
    /// stands for more bytes than the vocabulary's longest piece. Tokenizing runs on the connection's thread, and a
    /// body of megabytes would otherwise take seconds of CPU from the generations in flight.
    static func checkPromptSize(_ text: String, model: ServedModel, param: String) throws(APIError) {
        try checkPromptSize(bytes: text.utf8.count, model: model, param: param)
    }

    /// The same bound on the caller's own text, before anything reads it (the guardrails run after it: a body that
    /// cannot fit costs them nothing).
    static func checkPromptSize(bytes: Int, model: ServedModel, param: String) throws(APIError) {
        guard let least = model.tokenizer.minimumTokens(forBytes: bytes), least >= model.context else { return }
        throw .invalid("the prompt of \(bytes) bytes is at least \(least) tokens; the context holds \(model.context), leaving no room to generate",
                       param: param, code: "context_length_exceeded")
    }
}

extension OpenAIService {
    /// The most content bytes `/tokenize` takes: the served context times the vocabulary's longest piece (8 bytes a
    /// token where the vocabulary gives no bound), the most text a prompt that fits could hold. Tokenizing runs on
    /// the connection's thread at some microseconds a byte, so without it a 4 MiB body would hold a thread for
    /// half a minute.
    static func maxTokenizeBytes(_ model: ServedModel) -> Int {
        model.context * (model.tokenizer.longestPieceBytes ?? 8)
    }

    static func checkTokenizeSize(_ content: String, model: ServedModel) throws(APIError) {
        let bytes = content.utf8.count, limit = maxTokenizeBytes(model)
        guard bytes > limit else { return }
        throw .invalid("the content of \(bytes) bytes is more than /tokenize takes: \(limit) bytes, the context of \(model.context) tokens "
                       + "times the longest token's \(model.tokenizer.longestPieceBytes ?? 8) bytes", param: "content", code: "context_length_exceeded")
    }
}
