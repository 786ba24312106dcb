/// Chunked transfer encoding over a connection.
final class StreamChunkWriter: ChunkWriter, @unchecked Sendable {
    // @unchecked: used only by the connection's own thread, which owns the stream
    private let stream: ByteStream
    private let writeTimeout: Duration
    private var failed = false

    init(stream: ByteStream, writeTimeout: Duration) {
        self.stream = stream
        self.writeTimeout = writeTimeout
    }

    func write(_ bytes: [UInt8]) -> Bool {
        guard !failed else { return false }
        guard !bytes.isEmpty else { return true }
        let frame = Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
        if !stream.write(frame, deadline: .now + writeTimeout) { failed = true }
        return !failed
    }

    var clientGone: Bool { failed || stream.peerReset }

    /// Writes the last chunk; false when the stream broke on the way.
    func finish() -> Bool {
        guard !failed else { return false }
        return stream.write(Array("0\r\n\r\n".utf8), deadline: .now + writeTimeout)
    }
}
