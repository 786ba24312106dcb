import Foundation
import Synchronization

/// The offset between this machine's clock and AWS's, learnt from `Date` headers when a request
/// is refused as too skewed; every later signature uses the corrected time.
public final class ClockSkew: Sendable {
    /// Skews below this are normal network delay and left alone.
    public static let threshold: TimeInterval = 4 * 60
    private let offset = Mutex<TimeInterval>(0)

    public init() {}

    /// The current time as AWS sees it.
    public func now() -> Date {
        Date().addingTimeInterval(offset.withLock { $0 })
    }

    public var current: TimeInterval { offset.withLock { $0 } }

    /// Adopts the server's clock if `response` shows a skew beyond the threshold; returns true when corrected.
    public func correct(from response: HTTPResponse, localTime: Date = Date()) -> Bool {
        guard let header = response.headers["Date"], let serverTime = Timestamp.parseHTTPDate(header) else { return false }
        let skew = serverTime.timeIntervalSince(localTime)
        return offset.withLock { offset in
            guard abs(skew - offset) > Self.threshold else { return false }
            offset = skew
            return true
        }
    }
}
