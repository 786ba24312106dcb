import InferenceEngine

/// The model the server serves, once loaded: its scheduler, tokenizer and chat format.
public struct ServedModel: Sendable {
    public var id: String
    public var created: Int
    public var scheduler: Scheduler
    public var tokenizer: Tokenizer
    /// The chat format, or why there is none (chat completions are then refused; text completions still work).
    public var chatTemplate: Result<ChatTemplate, ChatTemplate.Unknown>
    public var context: Int

    public init(id: String, created: Int, scheduler: Scheduler, tokenizer: Tokenizer, chatTemplate: Result<ChatTemplate, ChatTemplate.Unknown>,
                context: Int) {
        self.id = id
        self.created = created
        self.scheduler = scheduler
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.context = context
    }
}
