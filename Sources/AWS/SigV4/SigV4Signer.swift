import Foundation

/// AWS Signature Version 4, stage by stage as AWS documents it: canonical request,
/// string to sign, signing key, signature; for the Authorization header or a presigned URL.
public struct SigV4Signer: Sendable {
    /// Service-specific variations of the algorithm.
    public struct Options: Sendable {
        /// Remove `.`/`..` segments and repeated slashes from the path (every service but S3).
        public var normalizePath = true
        /// Percent-encode the (already encoded) path once more (every service but S3).
        public var doubleEncodePath = true
        /// Send the payload hash as `x-amz-content-sha256` (S3, and anyone who asks).
        public var addContentSHA256Header = false
        /// Use this payload hash instead of hashing the body, e.g. `UNSIGNED-PAYLOAD`.
        public var payloadHash: String?
        /// Add the session token after signing instead of signing it (a few services want this).
        public var omitSessionTokenFromSignature = false

        public init() {}

        /// S3's variant: no normalisation, single encoding, content hash header.
        public static var s3: Options {
            var options = Options()
            options.normalizePath = false
            options.doubleEncodePath = false
            options.addContentSHA256Header = true
            return options
        }
    }

    /// The intermediate products of one signing, kept for tests and debugging.
    public struct Result: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    /// Headers that proxies and clients may rewrite; signing them would break requests in transit.
    static let unsignedHeaderNames: Set<String> = [
        "authorization", "user-agent", "expect", "x-amzn-trace-id", "connection", "transfer-encoding",
    ]

    public var credentials: Credentials
    public var region: String
    public var service: String
    public var options: Options

    public init(credentials: Credentials, region: String, service: String, options: Options = Options()) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    /// Signs `request` in place with an Authorization header.
    @discardableResult
    public func sign(_ request: inout HTTPRequest, date: Date) -> Result {
        let (dateTime, _) = Timestamp.amzDate(date)
        if !request.headers.contains("host") { request.headers.add("Host", request.hostHeader) }
        request.headers.set("X-Amz-Date", dateTime)
        let token = credentials.sessionToken
        if let token, !options.omitSessionTokenFromSignature { request.headers.set("X-Amz-Security-Token", token) }
        let payloadHash = payloadHash(for: request)
        if options.addContentSHA256Header { request.headers.set("x-amz-content-sha256", payloadHash) }

        let headers = Self.canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method, canonicalURI(request.path), Self.canonicalQuery(request.query),
            headers.canonical, headers.signed, payloadHash,
        ].joined(separator: "\n")
        let result = finish(canonicalRequest: canonicalRequest, signedHeaders: headers.signed, date: date)

        if let token, options.omitSessionTokenFromSignature { request.headers.set("X-Amz-Security-Token", token) }
        request.headers.set("Authorization", "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(date)), "
            + "SignedHeaders=\(headers.signed), Signature=\(result.signature)")
        return result
    }

    /// Presigns `request` in place: the signature travels in the query, valid for `expires` seconds.
    @discardableResult
    public func presign(_ request: inout HTTPRequest, date: Date, expires: Int) -> Result {
        let (dateTime, _) = Timestamp.amzDate(date)
        if !request.headers.contains("host") { request.headers.add("Host", request.hostHeader) }
        let headers = Self.canonicalHeaders(request.headers)
        var added: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(date))"),
            ("X-Amz-Date", dateTime),
            ("X-Amz-SignedHeaders", headers.signed),
            ("X-Amz-Expires", String(expires)),
        ]
        let token = credentials.sessionToken.map { ("X-Amz-Security-Token", $0) }
        if let token, !options.omitSessionTokenFromSignature { added.append(token) }
        let signedQuery = Self.appending(added, to: request.query)

        let canonicalRequest = [
            request.method, canonicalURI(request.path), Self.canonicalQuery(signedQuery),
            headers.canonical, headers.signed, payloadHash(for: request),
        ].joined(separator: "\n")
        let result = finish(canonicalRequest: canonicalRequest, signedHeaders: headers.signed, date: date)

        var trailing: [(String, String)] = []
        if let token, options.omitSessionTokenFromSignature { trailing.append(token) }
        trailing.append(("X-Amz-Signature", result.signature))
        request.query = Self.appending(trailing, to: signedQuery)
        return result
    }

    // MARK: Stages

    /// The canonical URI: the path normalised and encoded as the service expects.
    public func canonicalURI(_ path: String) -> String {
        let effective = path.isEmpty ? "/" : path
        let normalized = options.normalizePath ? Self.removeDotSegments(effective) : effective
        return options.doubleEncodePath ? URIEncoding.encode(normalized, keepSlash: true) : normalized
    }

    /// The canonical query: every parameter decoded, re-encoded strictly, sorted by key then value.
    public static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(name: String, value: String)] = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = URIEncoding.encode(URIEncoding.decode(parts[0]))
            let value = parts.count > 1 ? URIEncoding.encode(URIEncoding.decode(parts[1])) : ""
            pairs.append((name, value))
        }
        pairs.sort { lhs, rhs in lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name }
        return pairs.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Canonical header block and the signed-headers list: lower-case names, sorted,
    /// values trimmed with inner whitespace collapsed, repeated headers joined with commas in order.
    public static func canonicalHeaders(_ headers: HTTPHeaders) -> (canonical: String, signed: String) {
        var merged: [String: [String]] = [:]
        for field in headers {
            let name = field.name.lowercased()
            guard !unsignedHeaderNames.contains(name) else { continue }
            merged[name, default: []].append(collapseWhitespace(field.value))
        }
        let names = merged.keys.sorted()
        let canonical = names.map { "\($0):\(merged[$0, default: []].joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    /// `YYYYMMDD/region/service/aws4_request`.
    public func scope(_ date: Date) -> String {
        "\(Timestamp.amzDate(date).day)/\(region)/\(service)/aws4_request"
    }

    /// The string to sign for a canonical request.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        [Self.algorithm, Timestamp.amzDate(date).dateTime, scope(date),
         Digest.hex(Digest.sha256(canonicalRequest))].joined(separator: "\n")
    }

    /// The derived key: HMAC chain over date, region, service and `aws4_request`.
    public func signingKey(date: Date) -> [UInt8] {
        let day = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: Timestamp.amzDate(date).day)
        let regional = Digest.hmacSHA256(key: day, message: region)
        let service = Digest.hmacSHA256(key: regional, message: service)
        return Digest.hmacSHA256(key: service, message: "aws4_request")
    }

    // MARK: Helpers

    private func finish(canonicalRequest: String, signedHeaders: String, date: Date) -> Result {
        let toSign = stringToSign(canonicalRequest: canonicalRequest, date: date)
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(date: date), message: toSign))
        return Result(canonicalRequest: canonicalRequest, stringToSign: toSign, signature: signature,
                      signedHeaders: signedHeaders)
    }

    private func payloadHash(for request: HTTPRequest) -> String {
        if let payloadHash = options.payloadHash { return payloadHash }
        if let file = request.bodyFile { return Digest.hex(file.sha256) }
        return request.body.isEmpty ? Digest.emptyPayloadHash : Digest.hex(Digest.sha256(request.body))
    }

    private static func appending(_ parameters: [(String, String)], to query: String) -> String {
        let encoded = URIEncoding.formEncode(parameters)
        return query.isEmpty ? encoded : "\(query)&\(encoded)"
    }

    /// RFC 3986 dot-segment removal, also folding empty segments from repeated slashes.
    static func removeDotSegments(_ path: String) -> String {
        var segments: [Substring] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for part in parts {
            switch part {
            case "", ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        let last = parts.last ?? ""
        let trailingSlash = path.hasSuffix("/") || last == "." || last == ".."
        let joined = "/" + segments.joined(separator: "/")
        return trailingSlash && !segments.isEmpty ? joined + "/" : joined
    }

    static func collapseWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }
}
