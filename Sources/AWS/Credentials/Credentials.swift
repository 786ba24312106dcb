import Foundation

/// An access key pair, with a session token and expiry when temporary. Its description never shows the secret or token.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public var expiration: Date?
    /// Where they came from, for `whoami` and error messages ("environment", "profile vendor (assume role)").
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil,
                expiration: Date? = nil, source: String = "explicit") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    /// True when the credentials expire within `margin` seconds of `now`.
    public func expires(within margin: TimeInterval, now: Date = Date()) -> Bool {
        guard let expiration else { return false }
        return expiration.timeIntervalSince(now) <= margin
    }

    public var description: String {
        "Credentials(accessKeyID: \(accessKeyID), secretAccessKey: \(Redaction.placeholder)"
            + (sessionToken == nil ? "" : ", sessionToken: \(Redaction.placeholder)")
            + (expiration.map { ", expiration: \(Timestamp.amzDate($0).dateTime)" } ?? "")
            + ", source: \(source))"
    }

    public var debugDescription: String { description }
}
