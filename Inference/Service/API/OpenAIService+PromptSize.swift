extension OpenAIService {
    /// Refuses, before tokenizing it, a prompt whose length in bytes alone shows it cannot fit the context: no token
    /// stands for more bytes than the vocabulary's longest piece. Tokenizing runs on the connection's thread, and a
    /// body of megabytes would otherwise take seconds of CPU from the generations in flight.
    static func checkPromptSize(_ text: String, model: ServedModel, param: String) throws(APIError) {
        let bytes = text.utf8.count
        guard let least = model.tokenizer.minimumTokens(forBytes: bytes), least >= model.context else { return }
        throw .invalid("the prompt of \(bytes) bytes is at least \(least) tokens; the context holds \(model.context), leaving no room to generate",
                       param: param, code: "context_length_exceeded")
    }
}
