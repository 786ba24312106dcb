import Foundation
import Hashing

/// A PEM file holding a certificate, the chain that follows it, and its private key (the layout ACM imports and
/// HAProxy reads), read at plan time so that a file missing a part is refused before anything is made.
public struct PEMBundle: Sendable {
    public var certificate: String
    public var chain: String
    public var privateKey: String

    /// The largest such file read: a certificate, a few intermediates and a key are a few KiB.
    public static let maximumSize = 1 << 20

    public init(_ data: Data) throws(EvaluationFailure) {
        guard data.count <= Self.maximumSize else { throw EvaluationFailure("is \(data.count) bytes, more than a certificate file holds") }
        var certificates: [String] = []
        var key: String?
        var block: [String] = []
        // CRLF and LF alike: a "\r\n" is one newline Character
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("-----BEGIN ") { block = [line]; continue }
            guard !block.isEmpty else { continue }
            block.append(line)
            guard line.hasPrefix("-----END ") else { continue }
            let pem = block.joined(separator: "\n") + "\n"
            if line.hasSuffix(" CERTIFICATE-----") {
                certificates.append(pem)
            } else if line.hasSuffix("PRIVATE KEY-----") {
                guard key == nil else { throw EvaluationFailure("holds more than one private key") }
                key = pem
            }
            block = []
        }
        guard let first = certificates.first, Self.der(first) != nil else { throw EvaluationFailure("holds no PEM certificate") }
        guard let key, Self.der(key) != nil else {
            throw EvaluationFailure("holds no PEM private key (it needs the certificate, its chain and the certificate's private key)")
        }
        certificate = first
        chain = certificates.dropFirst().joined()
        privateKey = key
    }

    /// SHA-256 of the certificate's DER bytes: the same however the PEM is wrapped, so it compares a file with what
    /// ACM returns.
    public var certificateDigest: String { Self.digest(certificate) ?? "" }

    /// The digest of the first certificate in `pem`, or nil when it holds none.
    public static func digest(_ pem: String) -> String? {
        der(pem).map { SHA256.hex($0) }
    }

    private static func der(_ pem: String) -> Data? {
        let body = pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") && !$0.contains(":") }.joined()
        guard let data = Data(base64Encoded: body), !data.isEmpty else { return nil }
        return data
    }
}
