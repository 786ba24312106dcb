import CCurl
import Foundation

/// One libcurl easy handle. It keeps its connection open between requests, which is how
/// connections are reused; the pool hands it to one request at a time.
final class CurlEasyHandle: @unchecked Sendable {
    // @unchecked: the handle is only touched by the request that took it out of the pool,
    // and the pool's mutex orders the hand-over between threads.
    let raw: UnsafeMutableRawPointer
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        raw = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    @discardableResult
    func set(_ option: CURLoption, _ value: Int) -> CURLcode { deploy_curl_setopt_long(raw, option, value) }

    @discardableResult
    func set(_ option: CURLoption, string: String) -> CURLcode {
        string.withCString { deploy_curl_setopt_string(raw, option, $0) }
    }

    @discardableResult
    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) -> CURLcode {
        deploy_curl_setopt_pointer(raw, option, pointer)
    }

    func info(_ item: CURLINFO) -> Int {
        var value = 0
        _ = deploy_curl_getinfo_long(raw, item, &value)
        return value
    }

    var lastErrorDetail: String {
        String(cString: errorBuffer)
    }
}
