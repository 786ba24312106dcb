import Foundation
import Diagnostics

/// Sends one HTTP request and returns the response, whatever its status. Retrying is the caller's business.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}

/// Settings of the HTTP layer.
public struct TransportOptions: Sendable {
    /// Seconds to establish a TCP (and TLS) connection.
    public var connectTimeout: TimeInterval = 5
    /// Seconds for a whole request, connection included.
    public var requestTimeout: TimeInterval = 60
    /// A PEM bundle of trusted CAs for private or air-gapped endpoints; the system store otherwise.
    /// TLS verification itself can never be turned off.
    public var caBundlePath: String?
    /// Sent as User-Agent.
    public var userAgent = "deploy/\(AWSLibrary.version)"
    /// Idle connections kept for reuse.
    public var maxIdleConnections = 16

    public init() {}
}

/// A request that got no HTTP response: connection refused or reset, timeout, DNS, TLS.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connectionRefused, connectionReset, timedOut, hostNotFound, tls, cancelled, invalidRequest, other
    }

    public var kind: Kind
    public var message: String
    /// The URL with secrets removed.
    public var url: String

    public init(kind: Kind, message: String, url: String) {
        self.kind = kind
        self.message = message
        self.url = url
    }

    /// True for failures a later attempt may not meet.
    public var isTransient: Bool {
        switch kind {
        case .connectionRefused, .connectionReset, .timedOut, .hostNotFound: return true
        case .tls, .cancelled, .invalidRequest, .other: return false
        }
    }

    public var description: String { "\(message) (\(url))" }
}

extension TransportError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
