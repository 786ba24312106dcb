/// Removes secrets from anything that may be shown: signatures, session tokens, credentials.
public enum Redaction {
    public static let placeholder = "<redacted>"

    static let sensitiveHeaders: Set<String> = ["authorization", "x-amz-security-token", "proxy-authorization"]
    static let sensitiveQueryKeys: Set<String> = ["x-amz-signature", "x-amz-security-token", "x-amz-credential"]

    /// The header value as it may be printed.
    public static func headerValue(name: String, value: String) -> String {
        sensitiveHeaders.contains(name.lowercased()) ? placeholder : value
    }

    /// A query string with the values of signing parameters replaced.
    public static func redactQuery(_ query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let name = pair.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            return sensitiveQueryKeys.contains(URIEncoding.decode(name).lowercased()) ? "\(name)=\(placeholder)" : String(pair)
        }.joined(separator: "&")
    }
}
