/// Lets a handler that has written nothing yet (a non-streamed generation) ask whether its client is gone. A reset
/// says so. A FIN alone does not: a client that half-closed after its request still reads the answer, and one that
/// closed looks the same. So on the first FIN an HTTP/1.1 client is sent an interim `100 Continue`, which every
/// HTTP/1.1 client must accept and skip before the final response (RFC 9110, 15.2): a client that has closed
/// answers it with a reset, seen at the next poll; a half-closed one reads past it to its answer. HTTP/1.0 has no
/// interim responses, so there only a reset counts.
final class StreamProbe: @unchecked Sendable {
    // @unchecked: the handler asks from the connection's own thread (it runs there, synchronously), the only thread
    // that touches the stream while the handler runs
    private let stream: ByteStream
    private let interim: Bool
    private let writeTimeout: Duration
    private var probed = false

    init(stream: ByteStream, interim: Bool, writeTimeout: Duration) {
        self.stream = stream
        self.interim = interim
        self.writeTimeout = writeTimeout
    }

    var clientGone: Bool {
        if stream.peerReset { return true }
        guard interim, !probed, stream.peerFinished else { return false }
        probed = true
        return !stream.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), deadline: .now + writeTimeout)
    }
}
