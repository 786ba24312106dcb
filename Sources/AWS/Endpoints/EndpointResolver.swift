import Diagnostics
/// Where a request goes and which region it is signed for.
public struct Endpoint: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var port: Int?
    /// A path prefix of a custom endpoint (`https://gw.example/aws`), without the trailing slash.
    public var basePath: String
    public var signingRegion: String
    /// True when the URL came from an override rather than the partition's naming rule.
    public var isCustom: Bool

    /// The endpoint's URL, for display.
    public var url: String {
        let defaultPort = scheme == "https" ? 443 : 80
        let portPart = port.map { $0 == defaultPort ? "" : ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(portPart)\(basePath)"
    }

    /// Parses `scheme://host[:port][/path]`; http and https only.
    public static func parse(_ text: String, signingRegion: String) -> Endpoint? {
        guard let schemeEnd = text.range(of: "://") else { return nil }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = text[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var basePath = String(rest.dropFirst(authority.count).prefix { $0 != "?" })
        while basePath.hasSuffix("/") { basePath.removeLast() }
        var host = String(authority)
        var port: Int?
        if host.hasPrefix("[") {  // IPv6 literal
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
            host = String(host[...close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
            host = String(host[..<colon])
        }
        guard !host.isEmpty, !host.contains("@") else { return nil }
        return Endpoint(scheme: scheme, host: host, port: port, basePath: basePath,
                        signingRegion: signingRegion, isCustom: true)
    }
}

/// Resolves a service's endpoint the way the AWS CLI does: `--endpoint-url`, then
/// `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`,
/// then the partition's naming rule.
public struct EndpointResolver: Sendable {
    public var commandLineURL: String?
    public var environment: [String: String]
    public var profileURL: String?

    public init(commandLineURL: String? = nil, environment: [String: String] = [:], profileURL: String? = nil) {
        self.commandLineURL = commandLineURL
        self.environment = environment
        self.profileURL = profileURL
    }

    /// The override that applies to `service`, with the name of where it came from.
    public func override(for service: AWSService) -> (url: String, source: String)? {
        if let url = commandLineURL, !url.isEmpty { return (url, "--endpoint-url") }
        let ignoreConfigured = environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"]?.lowercased() == "true"
        guard !ignoreConfigured else { return nil }
        let serviceVariable = "AWS_ENDPOINT_URL_\(service.environmentName)"
        if let url = environment[serviceVariable], !url.isEmpty { return (url, serviceVariable) }
        if let url = environment["AWS_ENDPOINT_URL"], !url.isEmpty { return (url, "AWS_ENDPOINT_URL") }
        if let url = profileURL, !url.isEmpty { return (url, "profile endpoint_url") }
        return nil
    }

    public func resolve(_ service: AWSService, region: String) throws(EndpointError) -> Endpoint {
        if let (url, source) = override(for: service) {
            guard let endpoint = Endpoint.parse(url, signingRegion: region) else {
                throw EndpointError(message: "\(source): '\(url)' is not an http(s) URL")
            }
            return endpoint
        }
        guard let partition = Partition.of(region: region) else {
            throw EndpointError(message: "unknown region '\(region)': not in the aws, aws-us-gov, aws-cn, aws-iso "
                + "or aws-iso-b partitions; pass --endpoint-url for a private endpoint")
        }
        if service.isGlobal {
            let host = partition.name == "aws"
                ? "\(service.endpointPrefix).\(partition.dnsSuffix)"
                : partition.name == "aws-us-gov"
                    ? "\(service.endpointPrefix).us-gov.\(partition.dnsSuffix)"
                    : "\(service.endpointPrefix).\(partition.globalRegion).\(partition.dnsSuffix)"
            return Endpoint(scheme: "https", host: host, port: nil, basePath: "",
                            signingRegion: partition.globalRegion, isCustom: false)
        }
        return Endpoint(scheme: "https", host: "\(service.endpointPrefix).\(region).\(partition.dnsSuffix)", port: nil,
                        basePath: "", signingRegion: region, isCustom: false)
    }
}

/// An endpoint that cannot be worked out from the settings given.
public struct EndpointError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension EndpointError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
