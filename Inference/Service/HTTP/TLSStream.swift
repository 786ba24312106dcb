import CSSL
import Foundation
#if canImport(Glibc)
import Glibc
import Diagnostics
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
            throw SetupError(description: "cannot use the TLS certificate \(certificate) and key \(key): \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        self.context = context
    }

    deinit { SSL_CTX_free(context) }

    /// The handshake on an accepted, non-blocking socket, finished by `deadline` as a whole (a ClientHello dripped a
    /// byte at a time does not extend it); nil when it fails or runs out of time, leaving the socket for the caller
    /// to close.
    public func accept(_ descriptor: Int32, deadline: ContinuousClock.Instant) -> ByteStream? {
        guard let ssl = SSL_new(context) else { return nil }
        SSL_set_fd(ssl, descriptor)
        while true {
            ERR_clear_error()
            let result = SSL_accept(ssl)
            if result == 1 { return TLSStream(ssl: ssl, descriptor: descriptor) }
            guard let readiness = TLSStream.waitFor(SSL_get_error(ssl, result)),
                  ContinuousClock.now < deadline, Socket.wait(descriptor, for: readiness, until: deadline) else {
                SSL_free(ssl)
                return nil
            }
        }
    }
}

/// One TLS connection over a non-blocking socket.
final class TLSStream: SocketBacked {
    private let ssl: OpaquePointer
    let descriptor: Int32
    private var closed = false

    init(ssl: OpaquePointer, descriptor: Int32) {
        self.ssl = ssl
        self.descriptor = descriptor
    }

    deinit { close() }

    /// What an SSL call that wants to be retried waits for; nil for an error that ends the connection.
    static func waitFor(_ error: Int32) -> Socket.Readiness? {
        switch error {
        case SSL_ERROR_WANT_READ: .readable
        case SSL_ERROR_WANT_WRITE: .writable
        default: nil
        }
    }

    func read(max count: Int, deadline: ContinuousClock.Instant) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            ERR_clear_error()
            let received = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32(count)) }
            if received > 0 { return Array(buffer.prefix(Int(received))) }
            guard let readiness = Self.waitFor(SSL_get_error(ssl, received)) else { return [] }
            guard Socket.wait(descriptor, for: readiness, until: deadline) else { return nil }
        }
    }

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) -> Bool {
        // one buffer for every retry: SSL_write must be called again with the same pointer after WANT_WRITE
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return true }
            var offset = 0
            while offset < buffer.count {
                ERR_clear_error()
                let sent = SSL_write(ssl, base + offset, Int32(clamping: buffer.count - offset))
                if sent > 0 {
                    offset += Int(sent)
                    continue
                }
                guard let readiness = Self.waitFor(SSL_get_error(ssl, sent)),
                      Socket.wait(descriptor, for: readiness, until: deadline), ContinuousClock.now < deadline else { return false }
            }
            return true
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        // non-blocking: one attempt to send close_notify, never a wait on a client that does not read
        ERR_clear_error()
        SSL_shutdown(ssl)
        SSL_free(ssl)
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}

extension TLSContext.SetupError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
