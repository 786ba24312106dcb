import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare HTTP/1.1 client on a socket, for tests that need the exact bytes, keep-alive, or a misbehaving client.
/// @unchecked: a test owns each client; the one shared with a sending thread only sends from it.
final class RawHTTPClient: @unchecked Sendable {
    private(set) var descriptor: Int32

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close() }

    /// Hangs up, once: a descriptor closed twice may by then be another test's (a pipe to a child, say), as tests
    /// run side by side in one process.
    func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Shuts down the sending side only (a half-close): the server sees a FIN, and this client can still read.
    func finishSending() { shutdown(descriptor, Int32(SHUT_WR)) }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    private var buffer: [UInt8] = []

    /// Reads more bytes; false at the end of the stream or on timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer += chunk.prefix(count)
        return true
    }

    /// Everything received until `marker` has arrived (nil if the server closes or times out first); what follows it
    /// in the same read stays for the next call.
    func read(through marker: String) -> String? {
        let wanted = Array(marker.utf8)
        while true {
            if let range = buffer.firstRange(of: wanted) {
                defer { buffer.removeFirst(range.upperBound) }
                return String(decoding: buffer[..<range.upperBound], as: UTF8.self)
            }
            guard fill() else { return nil }
        }
    }

    /// Everything until the server closes.
    func readAll() -> [UInt8] {
        while fill() {}
        defer { buffer = [] }
        return buffer
    }

    /// One final response (interim 1xx responses skipped, as HTTP/1.1 clients must); a chunked body is de-chunked.
    func response() -> Response? {
        while RequestEnd.find(buffer) == nil { guard fill() else { return nil } }
        let end = RequestEnd.find(buffer)!
        let head = String(decoding: buffer[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(end + 4)
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        if (100..<200).contains(status) { return response() }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if headers["transfer-encoding"] == "chunked" {
            while true {
                while RequestEnd.line(buffer) == nil { guard fill() else { return nil } }
                let lineEnd = RequestEnd.line(buffer)!
                let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self), radix: 16) ?? 0
                buffer.removeFirst(lineEnd + 2)
                while buffer.count < size + 2 { guard fill() else { return nil } }
                body += buffer[..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length { guard fill() else { return nil } }
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Sends one request and reads its response.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) -> Response? {
        var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1"]
        for (name, value) in headers { lines.append("\(name): \(value)") }
        if let body { lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"] }
        send(lines.joined(separator: "\r\n") + "\r\n\r\n" + (body ?? ""))
        return response()
    }

    enum RequestEnd {
        static func find(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 4 else { return nil }
            return (0...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
        }

        static func line(_ bytes: [UInt8]) -> Int? {
            guard bytes.count >= 2 else { return nil }
            return (0...(bytes.count - 2)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 }
        }
    }
}
