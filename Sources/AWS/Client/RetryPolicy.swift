import Foundation
import Synchronization

/// Capped exponential backoff with full jitter, bounded by attempts.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (AWS_MAX_ATTEMPTS).
    public var maxAttempts: Int
    /// The ceiling of the first retry's delay; it doubles each retry.
    public var baseDelay: TimeInterval
    /// No delay is ever longer than this.
    public var maxDelay: TimeInterval

    public init(maxAttempts: Int = 5, baseDelay: TimeInterval = 0.5, maxDelay: TimeInterval = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The delay before retry number `retry` (1 for the first), given a uniform random number in [0, 1).
    public func delay(beforeRetry retry: Int, random: Double) -> TimeInterval {
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(exponent)))
        return random * ceiling
    }
}

/// A shared allowance of retries (the SDKs' "retry quota"): each retry spends tokens, each success
/// gives some back. When a dependency is down the budget runs dry and calls fail fast instead of
/// multiplying the load.
public final class RetryBudget: Sendable {
    public static let retryCost = 5
    public static let timeoutCost = 10
    public static let successRefund = 1

    public let capacity: Int
    private let tokens: Mutex<Int>

    public init(capacity: Int = 500) {
        self.capacity = capacity
        tokens = Mutex(capacity)
    }

    public var available: Int { tokens.withLock { $0 } }

    /// Takes `cost` tokens if there are enough.
    public func acquire(_ cost: Int) -> Bool {
        tokens.withLock { tokens in
            guard tokens >= cost else { return false }
            tokens -= cost
            return true
        }
    }

    /// Returns tokens after a success: the cost of the retry that succeeded, or the refund.
    public func release(_ amount: Int) {
        tokens.withLock { $0 = min(capacity, $0 + amount) }
    }
}

/// Which failures are worth another attempt.
public enum RetryClassifier {
    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]
    public static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "IDPCommunicationError",
    ]
    public static let transientStatuses: Set<Int> = [429, 500, 502, 503, 504]
    public static let clockSkewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException",
        "SignatureDoesNotMatch", "AuthFailure",
    ]

    /// True for throttling and transient service errors.
    public static func isRetryable(code: String, status: Int) -> Bool {
        throttlingCodes.contains(code) || transientCodes.contains(code) || transientStatuses.contains(status)
    }
}
