import AWS

/// How results are printed.
enum OutputFormat: String, Sendable {
    case text, json
}

/// The options every command shares: where to reach AWS and how to print.
struct GlobalOptions: Sendable {
    static let specs: [OptionSpec] = [
        .value("profile", "name", "Use this profile from ~/.aws/config and ~/.aws/credentials."),
        .value("region", "region", "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)."),
        .value("endpoint-url", "url", "Send every request to this endpoint (also AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>)."),
        .value("ca-bundle", "file", "Trust the CAs in this PEM file (private and air-gapped endpoints; also AWS_CA_BUNDLE)."),
        .value("output", "format", "text or json (default: text)."),
        .flag("debug", "Log every AWS request (method, URL, status, request id, timing) to standard error; never secrets."),
        .flag("help", short: "h", "Show help."),
    ]

    var profile: String?
    var region: String?
    var endpointURL: String?
    var caBundle: String?
    var output: OutputFormat = .text
    var debug = false

    init(_ parsed: ParsedArguments, command: String?) throws(UsageError) {
        profile = parsed.value("profile")
        region = parsed.value("region")
        endpointURL = parsed.value("endpoint-url")
        caBundle = parsed.value("ca-bundle")
        debug = parsed.flag("debug")
        if let text = parsed.value("output") {
            guard let format = OutputFormat(rawValue: text) else {
                throw UsageError(message: "--output must be text or json, not '\(text)'", command: command)
            }
            output = format
        }
        if let url = endpointURL, Endpoint.parse(url, signingRegion: "") == nil {
            throw UsageError(message: "--endpoint-url '\(url)' is not an http(s) URL", command: command)
        }
    }

    func sessionInputs(environment: [String: String]) -> SessionInputs {
        SessionInputs(profile: profile, region: region, endpointURL: endpointURL, caBundle: caBundle,
                      environment: environment)
    }
}
