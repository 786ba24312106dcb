import CCurl
import Foundation
import Synchronization

/// One request/response exchange on an easy handle: sets the options, collects the
/// response through libcurl's callbacks, and maps libcurl's error codes.
final class CurlExchange: Sendable {
    let request: HTTPRequest
    private let cancelled = Atomic<Bool>(false)
    private let collected = Mutex<(headers: [(String, String)], body: Data)>(([], Data()))
    /// Where a file body is read from: the open file and the bytes sent so far (reset by every attempt).
    private let upload = Mutex<(descriptor: Int32, sent: Int64)>((-1, 0))

    init(request: HTTPRequest) {
        self.request = request
    }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    func run(on handle: CurlEasyHandle, options: TransportOptions) -> Result<HTTPResponse, TransportError> {
        if cancelled.load(ordering: .relaxed) {
            return .failure(TransportError(kind: .cancelled, message: "request cancelled", url: request.redactedURL))
        }
        curl_easy_reset(handle.raw)
        handle.errorBuffer[0] = 0
        handle.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(handle.errorBuffer))
        handle.set(CURLOPT_URL, string: request.url)
        handle.set(CURLOPT_NOSIGNAL, 1)
        handle.set(CURLOPT_FOLLOWLOCATION, 0)
        handle.set(CURLOPT_SSL_VERIFYPEER, 1)
        handle.set(CURLOPT_SSL_VERIFYHOST, 2)
        handle.set(CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        if request.bodyFile == nil {
            handle.set(CURLOPT_TIMEOUT_MS, Int(options.requestTimeout * 1000))
        } else {
            // a large body may take longer than any fixed limit: give up only when it stalls
            handle.set(CURLOPT_LOW_SPEED_LIMIT, 1024)
            handle.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(options.requestTimeout)))
        }
        handle.set(CURLOPT_USERAGENT, string: options.userAgent)
        if let bundle = options.caBundlePath { handle.set(CURLOPT_CAINFO, string: bundle) }
        if !request.mayRepeat {
            handle.set(CURLOPT_FRESH_CONNECT, 1)
            handle.set(CURLOPT_FORBID_REUSE, 1)
        }

        let context = Unmanaged.passUnretained(self).toOpaque()
        deploy_curl_setopt_data_callback(handle.raw, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let exchange = Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue()
            exchange.collected.withLock { $0.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count) }
            return size * count
        }
        handle.set(CURLOPT_WRITEDATA, pointer: context)
        deploy_curl_setopt_data_callback(handle.raw, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
            Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().receivedHeaderLine(line)
            return size * count
        }
        handle.set(CURLOPT_HEADERDATA, pointer: context)
        deploy_curl_setopt_progress_callback(handle.raw, CURLOPT_XFERINFOFUNCTION) { context, _, _, _, _ in
            guard let context else { return 0 }
            return Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().cancelled.load(ordering: .relaxed) ? 1 : 0
        }
        handle.set(CURLOPT_XFERINFODATA, pointer: context)
        handle.set(CURLOPT_NOPROGRESS, 0)

        if let file = request.bodyFile {
            let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                return .failure(TransportError(kind: .invalidRequest, message: "cannot read \(file.path): \(String(cString: strerror(errno)))",
                                               url: request.redactedURL))
            }
            upload.withLock { $0 = (descriptor, 0) }
        }
        defer { upload.withLock { if $0.descriptor >= 0 { close($0.descriptor) } } }
        setMethodAndBody(on: handle, context: context)
        var list: UnsafeMutablePointer<curl_slist>?
        for line in headerLines() { list = curl_slist_append(list, line) }
        deploy_curl_setopt_slist(handle.raw, CURLOPT_HTTPHEADER, list)
        defer { curl_slist_free_all(list) }

        let code = withExtendedLifetime(self) { curl_easy_perform(handle.raw) }
        guard code == CURLE_OK else { return .failure(error(for: code, detail: handle.lastErrorDetail)) }
        let status = handle.info(CURLINFO_RESPONSE_CODE)
        let (headers, body) = collected.withLock { ($0.headers, $0.body) }
        return .success(HTTPResponse(status: status, headers: HTTPHeaders(headers), body: body))
    }

    private func setMethodAndBody(on handle: CurlEasyHandle, context: UnsafeMutableRawPointer) {
        if let file = request.bodyFile {
            handle.set(CURLOPT_UPLOAD, 1)
            handle.set(CURLOPT_CUSTOMREQUEST, string: request.method)
            deploy_curl_setopt_off_t(handle.raw, CURLOPT_INFILESIZE_LARGE, curl_off_t(file.length))
            deploy_curl_setopt_data_callback(handle.raw, CURLOPT_READFUNCTION) { buffer, size, count, context in
                guard let buffer, let context else { return readAbort }
                return Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().read(into: buffer, capacity: size * count)
            }
            handle.set(CURLOPT_READDATA, pointer: context)
            // libcurl resends on a fresh connection when a reused one turns out dead, and must rewind the body first
            deploy_curl_setopt_seek_callback(handle.raw) { context, offset, origin in
                guard let context, origin == SEEK_SET else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
                return Unmanaged<CurlExchange>.fromOpaque(context).takeUnretainedValue().seek(to: Int64(offset))
            }
            handle.set(CURLOPT_SEEKDATA, pointer: context)
            return
        }
        switch request.method {
        case "GET" where request.body.isEmpty:
            handle.set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            handle.set(CURLOPT_NOBODY, 1)
        case "DELETE" where request.body.isEmpty:
            handle.set(CURLOPT_CUSTOMREQUEST, string: "DELETE")
        default:
            // POST semantics with the real verb: the body and its Content-Length are always sent,
            // an empty one included, which S3 requires of a bodiless PUT.
            handle.set(CURLOPT_CUSTOMREQUEST, string: request.method)
            deploy_curl_setopt_off_t(handle.raw, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            request.body.withUnsafeBytes { bytes in
                let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                if let base {
                    _ = deploy_curl_setopt_string(handle.raw, CURLOPT_COPYPOSTFIELDS, base)
                } else {
                    handle.set(CURLOPT_COPYPOSTFIELDS, string: "")
                }
            }
        }
    }

    /// The next bytes of the file body, read as libcurl asks for them; only the part's own range is ever read.
    private func read(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        guard let file = request.bodyFile else { return readAbort }
        return upload.withLock { state in
            let wanted = Int(min(Int64(capacity), file.length - state.sent))
            guard wanted > 0 else { return 0 }
            while true {
                let count = pread(state.descriptor, buffer, wanted, off_t(file.offset + state.sent))
                if count < 0, errno == EINTR { continue }
                // a file that shrank under us: abort rather than send a short body under the full length's checksum
                guard count > 0 else { return readAbort }
                state.sent += Int64(count)
                return count
            }
        }
    }

    /// Moves the read position within the part, as libcurl asks when it resends the body.
    private func seek(to offset: Int64) -> Int32 {
        guard let file = request.bodyFile, offset >= 0, offset <= file.length else { return Int32(CURL_SEEKFUNC_FAIL) }
        upload.withLock { $0.sent = offset }
        return Int32(CURL_SEEKFUNC_OK)
    }

    /// Header lines for libcurl; `Name;` sends an empty value, `Name:` suppresses a header curl would add.
    private func headerLines() -> [String] {
        var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        lines.append("Expect:")
        if !request.headers.contains("Content-Type") { lines.append("Content-Type:") }
        return lines
    }

    private func receivedHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        collected.withLock { state in
            if trimmed.hasPrefix("HTTP/") {
                state.headers.removeAll()  // a new response (after 100 Continue or a proxy CONNECT)
            } else if let colon = trimmed.firstIndex(of: ":") {
                let name = String(trimmed[..<colon])
                let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                state.headers.append((name, value))
            }
        }
    }

    private func error(for code: CURLcode, detail: String) -> TransportError {
        let kind: TransportError.Kind
        switch code {
        case CURLE_COULDNT_CONNECT: kind = .connectionRefused
        case CURLE_OPERATION_TIMEDOUT: kind = .timedOut
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .hostNotFound
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE: kind = .connectionReset
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM: kind = .tls
        case CURLE_ABORTED_BY_CALLBACK: kind = .cancelled
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: kind = .invalidRequest
        default: kind = .other
        }
        let summary = String(cString: curl_easy_strerror(code))
        let message = detail.isEmpty ? summary : "\(summary): \(detail)"
        return TransportError(kind: kind, message: message, url: request.redactedURL)
    }
}

/// What a read callback returns to make libcurl abort the transfer.
private let readAbort = Int(CURL_READFUNC_ABORT)
