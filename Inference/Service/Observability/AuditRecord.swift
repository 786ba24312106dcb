import Guardrails
/// One record of the audit log, before the log numbers it (`seq`) and chains it to the one before (`prev`): a
/// request with what was asked and answered, a summary of refusals counted instead of recorded, a checkpoint, or
/// the note that a torn tail was cut off at start. Absent fields are left out of the line; keys are written sorted.
public struct AuditRecord: Encodable, Sendable, Equatable {
    /// A prompt or a completion: the text itself, or with `--audit-content digest` only its SHA-256 and length.
    public enum Content: Encodable, Sendable, Equatable {
        case text(String)
        case digest(sha256: String, characters: Int)

        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .text(let text):
                var container = encoder.singleValueContainer()
                try container.encode(text)
            case .digest(let sha256, let characters):
                var container = encoder.container(keyedBy: DigestKeys.self)
                try container.encode(sha256, forKey: .sha256)
                try container.encode(characters, forKey: .characters)
            }
        }

        private enum DigestKeys: String, CodingKey { case sha256, characters }
    }

    /// Bytes cut off the end of the log at start, named by count and digest, never by content.
    public struct TornTail: Encodable, Sendable, Equatable {
        public var bytes: Int
        public var sha256: String
    }

    public var time: String?
    public var requestId: String?
    public var client: String?
    public var method: String?
    public var route: String?
    /// Who called: the API key's name, or `anonymous (--no-auth)`.
    public var identity: String?
    public var model: String?
    public var status: Int?
    public var latencyMs: Int?
    public var error: String?
    /// The request's parameters as given (prompt and messages apart, which are `prompt`).
    public var parameters: [String: AuditValue]?
    public var prompt: Content?
    public var promptTokens: Int?
    /// The text that reached the client (for a client that left, what it was sent before it left).
    public var completion: Content?
    public var completionTokens: Int?
    public var reusedPromptTokens: Int?
    public var finishReason: String?
    public var stream: Bool?
    /// Whether the whole answer reached the client.
    public var completed: Bool?
    public var clientDisconnected: Bool?
    /// A summary's description of what it counts, and its counts by caller.
    public var event: String?
    public var requests: Int?
    public var since: String?
    public var callers: [String: Int]?
    public var checkpoint: AuditCheckpoint?
    /// What the guardrail policy decided about this request, or a policy's reload.
    public var guardrails: AuditGuardrails?
    /// The quota limit that refused this request.
    public var quotaLimit: String?
    public var tornTailRemoved: TornTail?
    /// The policy that judged a request (its SHA-256 and the profile that applied), what it decided, and the time
    /// its rules took.
    public struct AuditGuardrails: Encodable, Sendable, Equatable {
        public var policy: String
        public var profile: String?
        public var decisions: [GuardrailDecision]?
        public var microseconds: Int?
        /// A reload refused (the last good policy stayed in force), named by its error.
        public var rejected: String?
    }

    /// Set by the log as it appends.
    var seq: Int?
    var prev: String?

    public init(time: String? = nil, requestId: String? = nil, client: String? = nil, method: String? = nil, route: String? = nil,
                status: Int? = nil, latencyMs: Int? = nil, error: String? = nil, prompt: Content? = nil) {
        self.time = time
        self.requestId = requestId
        self.client = client
        self.method = method
        self.route = route
        self.status = status
        self.latencyMs = latencyMs
        self.error = error
        self.prompt = prompt
    }
}
