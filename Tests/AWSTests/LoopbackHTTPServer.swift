import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP/1.1 server on a loopback port that answers from a script, for testing the client's
/// transport, retries and decoding over real sockets. One response per connection.
final class LoopbackHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var target: String
        var headers: [String: String]
        var body: Data
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String = ""
        /// Close the connection without answering: a lost answer, as the client sees a reset.
        var hangUp = false
    }

    let port: Int
    private let socket: Int32
    private let received = Recorder()

    private final class Recorder: Sendable {
        let requests = Mutex<[Request]>([])
    }

    /// Starts serving; `respond` gets each request and its 0-based index.
    init(respond: @escaping @Sendable (Request, Int) -> Reply) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [received] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else {
                    // closed here, not in stop(): a number closed while this thread still waits in accept could be
                    // reused by another test's socket, and this thread would then answer that test's requests
                    close(fd)
                    return
                }
                guard let request = Self.read(client) else { close(client); continue }
                let index = received.requests.withLock { $0.append(request); return $0.count - 1 }
                Self.write(respond(request, index), to: client)
                close(client)
            }
        }
        thread.start()
    }

    var requests: [Request] { received.requests.withLock { $0 } }

    /// Wakes the accepting thread, which closes the socket as it leaves.
    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
    }

    private static func read(_ fd: Int32) -> Request? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        let separator = Data("\r\n\r\n".utf8)
        while data.range(of: separator) == nil {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            data.append(buffer, count: count)
        }
        guard let split = data.range(of: separator) else { return nil }
        let head = String(decoding: data[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = head[0].split(separator: " ")
        guard parts.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(data[split.upperBound...])
        let expected = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < expected {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            body.append(buffer, count: count)
        }
        return Request(method: String(parts[0]), target: String(parts[1]), headers: headers, body: body)
    }

    private static func write(_ reply: Reply, to fd: Int32) {
        if reply.hangUp { return }
        var text = "HTTP/1.1 \(reply.status) Status\r\nContent-Length: \(reply.body.utf8.count)\r\nConnection: close\r\n"
        for (name, value) in reply.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n\(reply.body)"
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }
}
