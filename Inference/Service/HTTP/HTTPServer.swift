import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// An HTTP/1.1 server on POSIX sockets: keep-alive, chunked streaming, limits on size and time (every read and write
/// has a deadline), a bounded number of connections in all and per client address (one thread each). When every
/// slot is taken, a new connection takes the slot of the one that has waited longest for a request of its own
/// (`ConnectionTable`); only when all are busy answering, or over its address's cap, is it turned away (a 503 with
/// Retry-After, or for TLS a plain close). A graceful stop lets in-flight requests finish.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var limits = HTTPLimits()
        /// Connections served at once.
        public var maxConnections = 64
        /// Connections served at once from one client address; nil: `defaultMaxConnectionsPerClient`, at most
        /// `maxConnections`.
        public var maxConnectionsPerClient: Int?
        /// Serves TLS on every connection; nil serves plain HTTP.
        public var tls: TLSContext?
        /// Told, on the connection's thread and before the answer is written, of each request the server refuses
        /// itself (framing, size, time), so that the service can record it. It must not block for long.
        public var onRefusal: (@Sendable (HTTPRefusal) -> Void)?

        /// A client's connections when not configured: what a front proxy is typically given per address (nginx's
        /// `limit_conn`, HAProxy's `conn_cur`), enough for a client's parallel requests and then some; the server
        /// generates only `--parallel` requests at once, so more connections from one client only wait in its queue.
        public static let defaultMaxConnectionsPerClient = 32

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    private let configuration: Configuration
    private let handler: Handler
    private let listener: Int32
    /// The port actually bound (the configured one, or the kernel's choice for port 0).
    public let port: Int
    private struct Occupancy {
        var table: ConnectionTable
        var stopping = false
    }
    private let state: Mutex<Occupancy>
    private let allDone = DispatchSemaphore(value: 0)
    private let acceptEnded = DispatchSemaphore(value: 0)

    /// Binds and listens; `serve` starts accepting.
    public init(_ configuration: Configuration, handler: @escaping Handler) throws(StartError) {
        self.configuration = configuration
        self.handler = handler
        let perClientLimit = configuration.maxConnectionsPerClient ?? min(Configuration.defaultMaxConnectionsPerClient, configuration.maxConnections)
        state = Mutex(Occupancy(table: ConnectionTable(capacity: configuration.maxConnections, perClientLimit: perClientLimit)))
        signal(SIGPIPE, SIG_IGN)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(configuration.host, String(configuration.port), &hints, &found)
        guard status == 0, let info = found else {
            throw StartError(description: "cannot resolve \(configuration.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard descriptor >= 0 else { throw StartError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard bind(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw StartError(description: "cannot listen on \(configuration.host):\(configuration.port): \(reason)")
        }
        guard listen(descriptor, 128) == 0 else {
            Glibc.close(descriptor)
            throw StartError(description: "cannot listen: \(String(cString: strerror(errno)))")
        }
        listener = descriptor
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        port = Self.port(of: address)
    }

    /// Accepts connections on a thread of its own until `stop`.
    public func serve() {
        let thread = Thread { [self] in
            acceptLoop()
            acceptEnded.signal()
        }
        thread.name = "http-accept"
        thread.start()
    }

    /// Stops accepting and closes the listener; ends the connections waiting for a request (no request will be
    /// served on them now), waits for those answering one to finish (at most `timeout`), and cuts any still open
    /// then. Returns how many were cut.
    @discardableResult
    public func stop(timeout: Duration = .seconds(30)) -> Int {
        state.withLock { $0.stopping = true }
        shutdown(listener, Int32(SHUT_RDWR))
        acceptEnded.wait()
        Glibc.close(listener)
        let idle = state.withLock { $0.table.entries.values.filter { $0.waitingSince != nil }.map(\.descriptor) }
        for descriptor in idle { shutdown(descriptor, Int32(SHUT_RDWR)) }
        guard state.withLock({ $0.table.count }) > 0 else { return 0 }
        if allDone.wait(timeout: .now() + .milliseconds(Int(timeout.components.seconds * 1000))) == .success { return 0 }
        let open = state.withLock { $0.table.entries.values.map(\.descriptor) }
        for descriptor in open { shutdown(descriptor, Int32(SHUT_RDWR)) }
        // each connection's thread finds its socket gone and closes it
        _ = allDone.wait(timeout: .now() + .seconds(5))
        return open.count
    }

    private func acceptLoop() {
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &length) }
            }
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if state.withLock({ $0.stopping }) {
                if client >= 0 { Glibc.close(client) }
                return
            }
            guard client >= 0 else {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno == EMFILE || errno == ENFILE { usleep(10_000) }
                    continue
                }
                return
            }
            // non-blocking from here on: no read, write or handshake waits past its deadline
            guard Socket.makeNonBlocking(client) else {
                Glibc.close(client)
                continue
            }
            var noDelay: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let peer = Self.describe(address)
            let host = ClientAddress.key(ofPeer: peer)
            let admission = state.withLock { state in
                let admission = state.table.admit(host: host, descriptor: client, now: .now)
                // under the lock: the reclaimed connection's thread leaves the table (taking this lock) before it
                // closes its descriptor, so the descriptor cannot have been closed and reused by now
                if case .admitted(_, let reclaimed?) = admission { shutdown(reclaimed, Int32(SHUT_RDWR)) }
                return admission
            }
            guard case .admitted(let id, _) = admission else {
                refuse(client)
                continue
            }
            let thread = Thread { [self] in
                let stream: ByteStream?
                if let tls = configuration.tls {
                    stream = tls.accept(client, deadline: .now + configuration.limits.handshakeTimeout)
                } else {
                    stream = SocketStream(descriptor: client)
                }
                if let stream { serveConnection(stream, peer: peer, id: id) }
                let last = state.withLock { state -> Bool in
                    state.table.remove(id)
                    return state.table.count == 0 && state.stopping
                }
                if let stream { stream.close() } else { Glibc.close(client) }
                if last { allDone.signal() }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Turns away a connection over a limit, from the accept thread, without ever waiting on the client. Plain HTTP
    /// gets a 503 with Retry-After in one non-blocking send (a fresh socket's buffer takes it whole). A TLS client
    /// is closed without a byte: answering it in TLS would mean a handshake (an asymmetric-key operation and a wait
    /// on the client) for every connection we already know we cannot serve, which is what a flood wants; writing
    /// plain text on a TLS port is a protocol error the client cannot read. TLS clients retry a closed connection.
    private func refuse(_ client: Int32) {
        if configuration.tls == nil {
            let bytes = Self.serialize(Self.overloaded(), keepAlive: false, head: false)
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            shutdown(client, Int32(SHUT_WR))
        }
        Glibc.close(client)
    }

    private func serveConnection(_ stream: ByteStream, peer: String, id: UInt64) {
        let reader = RequestReader(stream: stream, limits: configuration.limits, peer: peer)
        let writeTimeout = configuration.limits.writeTimeout
        reader.sendContinue = { stream.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), deadline: .now + writeTimeout) }
        reader.stopping = { [self] in state.withLock { $0.stopping } }
        while true {
            switch reader.next() {
            case .closed:
                return
            case .refused(let status, let message, let method, let path):
                configuration.onRefusal?(HTTPRefusal(peer: peer, status: status, message: message, method: method, path: path))
                let body = #"{"error":{"message":"# + JSONString.quote(message) + #","type":"invalid_request_error","param":null,"code":null}}"#
                guard stream.write(Self.serialize(.text(status, body, contentType: "application/json"), keepAlive: false, head: false),
                                   deadline: .now + writeTimeout) else { return }
                Self.drain(stream)
                return
            case .request(var request):
                // reclaimed while its last bytes arrived: the socket is shut, nothing can be answered
                guard state.withLock({ $0.table.busy(id) }) else { return }
                let probe = StreamProbe(stream: stream, interim: request.version == "HTTP/1.1", writeTimeout: writeTimeout)
                request.clientGone = { probe.clientGone }
                let stopping = state.withLock { $0.stopping }
                let keepAlive = request.keepAlive && !stopping
                let response = handler(request)
                guard write(response, to: stream, keepAlive: keepAlive, head: request.method == "HEAD") else { return }
                if !keepAlive { return }
                state.withLock { $0.table.waiting(id, since: .now) }
            }
        }
    }

    /// Reads and drops what the client is still sending (a refused body, a smuggled request), for at most a second
    /// and 1 MiB, before the connection is closed: closing with unread bytes sends a reset, and a reset reaching the
    /// client before it has read the refusal makes its kernel drop the refusal.
    static func drain(_ stream: ByteStream) {
        let deadline = ContinuousClock.now + .seconds(1)
        var dropped = 0
        while dropped < 1 << 20, let more = stream.read(max: 64 * 1024, deadline: deadline), !more.isEmpty { dropped += more.count }
    }

    private func write(_ response: HTTPResponse, to stream: ByteStream, keepAlive: Bool, head: Bool) -> Bool {
        let writeTimeout = configuration.limits.writeTimeout
        switch response.body {
        case .bytes:
            return stream.write(Self.serialize(response, keepAlive: keepAlive, head: head), deadline: .now + writeTimeout)
        case .stream(let produce):
            var lines = ["HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))"]
            lines += response.headers.map { "\($0.0): \($0.1)" }
            lines += ["Transfer-Encoding: chunked", "Connection: \(keepAlive ? "keep-alive" : "close")", "", ""]
            guard stream.write(Array(lines.joined(separator: "\r\n").utf8), deadline: .now + writeTimeout) else { return false }
            let writer = StreamChunkWriter(stream: stream, writeTimeout: writeTimeout)
            produce(writer)
            return writer.finish()
        }
    }

    static func serialize(_ response: HTTPResponse, keepAlive: Bool, head: Bool) -> [UInt8] {
        guard case .bytes(let body) = response.body else { return [] }
        var lines = ["HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))"]
        lines += response.headers.map { "\($0.0): \($0.1)" }
        lines += ["Content-Length: \(body.count)", "Connection: \(keepAlive ? "keep-alive" : "close")", "", ""]
        return Array(lines.joined(separator: "\r\n").utf8) + (head ? [] : body)
    }

    static func overloaded() -> HTTPResponse {
        .text(503, #"{"error":{"message":"the server is at its connection limit; retry shortly","type":"server_error","param":null,"code":"overloaded"}}"#,
              contentType: "application/json", headers: [("Retry-After", "1")])
    }

    static func describe(_ address: sockaddr_storage) -> String {
        var copy = address
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST)), service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let status = withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, socklen_t(MemoryLayout<sockaddr_storage>.size), &host, socklen_t(host.count), &service,
                            socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        guard status == 0 else { return "unknown" }
        return "\(String(cString: host)):\(String(cString: service))"
    }

    static func port(of address: sockaddr_storage) -> Int {
        var copy = address
        return withUnsafePointer(to: &copy) { pointer in
            if address.ss_family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }
}

extension HTTPServer.StartError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
