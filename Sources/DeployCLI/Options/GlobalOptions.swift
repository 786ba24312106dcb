import AWS
import TextSafety

/// How results are printed.
enum OutputFormat: String, Sendable {
    case text, json
}

/// The options commands share: where to reach AWS and how to print. Each command takes only those that mean
/// something to it, so that a flag it would ignore is refused rather than silently dropped.
struct GlobalOptions: Sendable {
    var profile: String?
    var region: String?
    var endpointURL: String?
    var caBundle: String?
    var output: OutputFormat = .text
    var debug = false
    var help = false

    static let awsBindings: [OptionBinding<Self>] = [
        .value("profile", "name", "Use this profile from ~/.aws/config and ~/.aws/credentials.", \.profile),
        .value("region", "region", "The AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's).", \.region),
        .value("endpoint-url", "url", "Send every request to this endpoint (also AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>).",
               \.endpointURL) { url throws(UsageError) in
            guard Endpoint.parse(url, signingRegion: "") != nil else {
                throw UsageError(message: "--endpoint-url '\(url)' is not an http(s) URL")
            }
            return url
        },
        .value("ca-bundle", "file", "Trust the CAs in this PEM file (private and air-gapped endpoints; also AWS_CA_BUNDLE).", \.caBundle),
        .flag("debug", "Log every AWS request (method, URL, status, request id, timing) to standard error; never secrets.", \.debug),
    ]
    static let helpBinding = OptionBinding<Self>.flag("help", short: "h", "Show help.", \.help)

    /// `--output`, accepting `formats` only.
    static func outputBinding(_ formats: [OutputFormat]) -> OptionBinding<Self> {
        .value("output", "format", "text or json (default: text).", \.output) { text throws(UsageError) in
            guard let format = OutputFormat(rawValue: text), formats.contains(format) else {
                throw UsageError(message: "--output must be \(formats.map(\.rawValue).joined(separator: " or ")), not '\(SafeText.quoted(text))'")
            }
            return format
        }
    }

    /// Every shared option, for finding the command word among them.
    static let specs: [OptionSpec] = (awsBindings + [outputBinding([.text, .json]), helpBinding]).map(\.spec)

    /// The shared options `command` takes.
    static func bindings(for command: any Command.Type) -> [OptionBinding<Self>] {
        (command.usesAWS ? awsBindings : []) + (command.outputFormats.count > 1 ? [outputBinding(command.outputFormats)] : []) + [helpBinding]
    }

    static func specs(for command: any Command.Type) -> [OptionSpec] {
        bindings(for: command).map(\.spec)
    }

    func sessionInputs(environment: [String: String]) -> SessionInputs {
        SessionInputs(profile: profile, region: region, endpointURL: endpointURL, caBundle: caBundle,
                      environment: environment)
    }
}
