import CCurl
import Foundation
import Synchronization

/// The HTTP transport over libcurl: pooled handles (connection reuse), timeouts, TLS always verified,
/// proxies from the usual environment variables (libcurl reads http_proxy, https_proxy, no_proxy).
public final class CurlTransport: HTTPTransport {
    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    public let options: TransportOptions
    private let idle = Mutex<[CurlEasyHandle]>([])

    public init(options: TransportOptions = TransportOptions()) {
        _ = Self.globalInit
        self.options = options
    }

    public func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let exchange = CurlExchange(request: request)
        let result: Result<HTTPResponse, TransportError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // a thread of its own: curl_easy_perform blocks, and Dispatch's pools run only about one blocking
                // item per core, which would serialise parallel calls on a small machine
                let thread = Thread {
                    continuation.resume(returning: self.perform(exchange))
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        } onCancel: {
            exchange.cancel()
        }
        return try result.get()
    }

    private func perform(_ exchange: CurlExchange) -> Result<HTTPResponse, TransportError> {
        let request = exchange.request
        guard let handle = checkOut() else {
            return .failure(TransportError(kind: .other, message: "libcurl could not create a handle",
                                           url: request.redactedURL))
        }
        defer { checkIn(handle) }
        return exchange.run(on: handle, options: options)
    }

    private func checkOut() -> CurlEasyHandle? {
        idle.withLock { $0.popLast() } ?? CurlEasyHandle()
    }

    private func checkIn(_ handle: CurlEasyHandle) {
        idle.withLock { handles in
            if handles.count < options.maxIdleConnections { handles.append(handle) }
        }
    }
}
