import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A byte stream to one client: a plain TCP socket, or TLS over it. The socket is non-blocking: every read and
/// every write waits at most until its deadline, so a client that stops reading cannot hold a connection thread.
public protocol ByteStream: AnyObject {
    /// Reads up to `count` bytes, waiting at most until `deadline`; nil on timeout, [] at the end of the stream.
    func read(max count: Int, deadline: ContinuousClock.Instant) -> [UInt8]?
    /// Writes all of `bytes` by `deadline`; false when the client has gone or did not take them in time.
    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) -> Bool
    /// Whether the connection is broken (reset, or shut in both directions), without blocking and without consuming
    /// data. A half-close (the client's FIN after its request) is not a break: the client may still read.
    var peerReset: Bool { get }
    /// Whether the client has sent its FIN (a half-close or a close; only a write can tell which), without blocking.
    var peerFinished: Bool { get }
    func close()
}

/// A stream over a socket, which says whether its peer has gone by asking the socket.
protocol SocketBacked: ByteStream {
    var descriptor: Int32 { get }
}

extension SocketBacked {
    var peerReset: Bool { Socket.broken(descriptor) }
    var peerFinished: Bool { Socket.finished(descriptor) }
}

/// A TCP connection's socket.
final class SocketStream: SocketBacked {
    let descriptor: Int32
    private var closed = false

    /// Takes `descriptor`, which must already be non-blocking (`Socket.makeNonBlocking`).
    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close() }

    func read(max count: Int, deadline: ContinuousClock.Instant) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, count, 0) }
            if received > 0 { return Array(buffer.prefix(received)) }
            if received == 0 { return [] }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: guard Socket.wait(descriptor, for: .readable, until: deadline) else { return nil }
            default: return []
            }
        }
    }

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) -> Bool {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return true }
            var offset = 0
            while offset < buffer.count {
                let sent = send(descriptor, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent >= 0 {
                    offset += sent
                    continue
                }
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: guard Socket.wait(descriptor, for: .writable, until: deadline) else { return false }
                default: return false
                }
            }
            return true
        }
    }

    func close() {
        guard !closed else { return }
        closed = true
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }
}

/// Waiting on a non-blocking socket.
enum Socket {
    enum Readiness { case readable, writable }

    /// Makes `descriptor` non-blocking; false if it cannot be.
    static func makeNonBlocking(_ descriptor: Int32) -> Bool {
        let flags = fcntl(descriptor, F_GETFL)
        return flags >= 0 && fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// Waits until `descriptor` is ready or `deadline` passes; true when ready (or in error: the next call says which).
    static func wait(_ descriptor: Int32, for readiness: Readiness, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return poll(descriptor, readiness, milliseconds: 0) }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + (remaining.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            var poller = pollfd(fd: descriptor, events: Int16(readiness == .readable ? POLLIN : POLLOUT), revents: 0)
            let ready = Glibc.poll(&poller, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno != EINTR { return false }
        }
    }

    private static func poll(_ descriptor: Int32, _ readiness: Readiness, milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(readiness == .readable ? POLLIN : POLLOUT), revents: 0)
        return Glibc.poll(&poller, 1, milliseconds) > 0
    }

    /// Whether the connection was reset or hung up in both directions. A FIN alone (POLLRDHUP, a read of 0) is
    /// not counted: a client that shut down its sending side after a whole request still waits for the answer,
    /// and a FIN cannot tell that client from one that closed; the RST its kernel sends once we write to a closed
    /// socket can.
    static func broken(_ descriptor: Int32) -> Bool {
        var poller = pollfd(fd: descriptor, events: 0, revents: 0)
        guard Glibc.poll(&poller, 1, 0) > 0 else { return false }
        return poller.revents & (Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0
    }

    /// Whether the peer's FIN has arrived (POLLRDHUP, 0x2000, a GNU extension the Glibc module does not export).
    static func finished(_ descriptor: Int32) -> Bool {
        let readHangUp: Int16 = 0x2000
        var poller = pollfd(fd: descriptor, events: readHangUp, revents: 0)
        guard Glibc.poll(&poller, 1, 0) > 0 else { return false }
        return poller.revents & readHangUp != 0
    }
}
