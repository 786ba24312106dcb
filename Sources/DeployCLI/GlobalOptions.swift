import AWS
import TextSafety

/// How results are printed.
enum OutputFormat: String, Sendable {
    case text, json
}

/// The options commands share: where to reach AWS and how to print. Each command takes only those that mean
/// something to it, so that a flag it would ignore is refused rather than silently dropped.
struct GlobalOptions: Sendable {
    static let awsSpecs: [OptionSpec] = [
        .value("profile", "name", "Use this profile from ~/.aws/config and ~/.aws/credentials."),
        .value("region", "region", "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's)."),
        .value("endpoint-url", "url", "Send every request to this endpoint (also AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>)."),
        .value("ca-bundle", "file", "Trust the CAs in this PEM file (private and air-gapped endpoints; also AWS_CA_BUNDLE)."),
        .flag("debug", "Log every AWS request (method, URL, status, request id, timing) to standard error; never secrets."),
    ]
    static let outputSpec = OptionSpec.value("output", "format", "text or json (default: text).")
    static let helpSpec = OptionSpec.flag("help", short: "h", "Show help.")

    /// Every shared option, for finding the command word among them.
    static let specs: [OptionSpec] = awsSpecs + [outputSpec, helpSpec]

    /// The shared options `command` takes.
    static func specs(for command: any Command.Type) -> [OptionSpec] {
        (command.usesAWS ? awsSpecs : []) + (command.outputFormats.count > 1 ? [outputSpec] : []) + [helpSpec]
    }

    var profile: String?
    var region: String?
    var endpointURL: String?
    var caBundle: String?
    var output: OutputFormat = .text
    var debug = false

    init(_ parsed: ParsedArguments, command: String?, formats: [OutputFormat] = [.text, .json]) throws(UsageError) {
        profile = parsed.value("profile")
        region = parsed.value("region")
        endpointURL = parsed.value("endpoint-url")
        caBundle = parsed.value("ca-bundle")
        debug = parsed.flag("debug")
        if let text = parsed.value("output") {
            guard let format = OutputFormat(rawValue: text), formats.contains(format) else {
                throw UsageError(message: "--output must be \(formats.map(\.rawValue).joined(separator: " or ")), not '\(SafeText.quoted(text))'",
                                 command: command)
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
