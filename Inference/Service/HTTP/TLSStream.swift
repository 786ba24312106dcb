import CSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TLS (1.2 and later) for the server, through OpenSSL's libssl: a context made once from the certificate chain
/// and key, and a stream per connection.
public final class TLSContext: @unchecked Sendable {
    // @unchecked: an SSL_CTX is safe to share between threads once configured, which happens in init
    let context: OpaquePointer

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(certificate: String, key: String) throws(SetupError) {
        var error = [CChar](repeating: 0, count: 256)
        guard let context = inference_tls_server_context(certificate, key, &error, error.count) else {
            throw SetupError(description: "cannot use the TLS certificate \(certificate) and key \(key): \(String(cString: error))")
        }
        self.context = context
    }

    deinit { SSL_CTX_free(context) }

    /// The handshake on an accepted socket, bounded by `timeout`; nil when it fails (an old protocol, a bad client),
    /// leaving the socket for the caller to close.
    public func accept(_ descriptor: Int32, timeout: Duration = .seconds(10)) -> ByteStream? {
        guard let ssl = SSL_new(context) else { return nil }
        SSL_set_fd(ssl, descriptor)
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard SSL_accept(ssl) == 1 else {
            SSL_free(ssl)
            return nil
        }
        var none = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
        return TLSStream(ssl: ssl, descriptor: descriptor)
    }
}

/// One TLS connection.
final class TLSStream: ByteStream {
    private let ssl: OpaquePointer
    private let descriptor: Int32
    private var closed = false

    init(ssl: OpaquePointer, descriptor: Int32) {
        self.ssl = ssl
        self.descriptor = descriptor
    }

    deinit { close() }

    func read(max count: Int, deadline: ContinuousClock.Instant) -> [UInt8]? {
        if SSL_pending(ssl) == 0, !SocketStream.waitReadable(descriptor, until: deadline) { return nil }
        var buffer = [UInt8](repeating: 0, count: count)
        let received = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32(count)) }
        guard received > 0 else { return [] }
        return Array(buffer.prefix(Int(received)))
    }

    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32(bytes.count - offset)) }
            guard sent > 0 else { return false }
            offset += Int(sent)
        }
        return true
    }

    var peerClosed: Bool { SSL_pending(ssl) == 0 && SocketStream.peerClosed(descriptor) }

    func close() {
        guard !closed else { return }
        closed = true
        SSL_shutdown(ssl)
        SSL_free(ssl)
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}
