/// A request the HTTP layer answered itself, before any handler saw it: malformed or ambiguous framing (400),
/// headers or a body too large (431, 413) or too slow (408), an unsupported method or version (501, 505).
public struct HTTPRefusal: Sendable {
    /// The client's address, as `ip:port`.
    public var peer: String
    public var status: Int
    /// Why, as the client is told.
    public var message: String
    /// The method and path, when the request line was read before the refusal.
    public var method: String?
    public var path: String?

    public init(peer: String, status: Int, message: String, method: String? = nil, path: String? = nil) {
        self.peer = peer
        self.status = status
        self.message = message
        self.method = method
        self.path = path
    }

    /// What per-client limits count this refusal against (see `ClientAddress`).
    public var clientAddress: String { ClientAddress.key(ofPeer: peer) }
}
