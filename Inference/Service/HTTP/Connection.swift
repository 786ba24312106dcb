import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A byte stream to one client: a plain TCP socket, or TLS over it.
public protocol ByteStream: AnyObject {
    /// Reads up to `count` bytes, waiting at most until `deadline`; nil on timeout, [] at the end of the stream.
    func read(max count: Int, deadline: ContinuousClock.Instant) -> [UInt8]?
    /// Writes all of `bytes`; false when the client has gone.
    func write(_ bytes: [UInt8]) -> Bool
    /// Whether the peer has closed, without blocking and without consuming data.
    var peerClosed: Bool { get }
    func close()
}

/// A TCP connection's socket.
final class SocketStream: ByteStream {
    let descriptor: Int32
    private var closed = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close() }

    func read(max count: Int, deadline: ContinuousClock.Instant) -> [UInt8]? {
        guard Self.waitReadable(descriptor, until: deadline) else { return nil }
        var buffer = [UInt8](repeating: 0, count: count)
        let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, count, 0) }
        guard received > 0 else { return [] }
        return Array(buffer.prefix(received))
    }

    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += sent
        }
        return true
    }

    var peerClosed: Bool { Self.peerClosed(descriptor) }

    func close() {
        guard !closed else { return }
        closed = true
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }

    /// Waits until `descriptor` can be read or `deadline` passes.
    static func waitReadable(_ descriptor: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = deadline - ContinuousClock.now
            let milliseconds = max(0, Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { return false }
        }
    }

    /// Whether the peer hung up: readable with nothing to read, or an error or hang-up event.
    static func peerClosed(_ descriptor: Int32) -> Bool {
        // POLLRDHUP (0x2000) is a GNU extension the Glibc module does not export
        let readHangUp: Int16 = 0x2000
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN) | readHangUp, revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        if poller.revents & (Int16(POLLHUP) | Int16(POLLERR) | readHangUp) != 0 { return true }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) == 0
    }
}
