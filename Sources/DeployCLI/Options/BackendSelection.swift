import Stack

/// `--backend s3://BUCKET/KEY` with its KMS key, region and lease, and `--lock-timeout`: a shared state named on the
/// command line, for a stack without a `state` block.
struct BackendSelection: Sendable {
    var url: String?
    var kmsKey: String?
    var region: String?
    var leaseSeconds: Int?
    var lockTimeout: Double = 0

    static func bindings<Options>(_ group: WritableKeyPath<Options, BackendSelection> & Sendable) -> [OptionBinding<Options>] {
        all.map { $0.embedded(in: group) }
    }

    private static let all: [OptionBinding<Self>] = [
        .value("backend", "s3://bucket/key", "Keep the state in this bucket object, shared and locked (a stack's state block says the same).",
               \.url),
        .value("backend-kms-key", "key", "The KMS key (id, ARN or alias/NAME) that encrypts each state snapshot of --backend.", \.kmsKey),
        .value("backend-region", "region", "The region of the --backend bucket (default: the stack's).", \.region),
        .value("lock-lease", "seconds", "How long a shared lock lasts unrenewed before another run may take it over (default 300).",
               \.leaseSeconds) { text throws(UsageError) in
            guard let seconds = Int(text) else { throw UsageError(message: "--lock-lease must be a whole number of seconds, not '\(text)'") }
            return seconds
        },
        .value("lock-timeout", "seconds", "How long to wait for a state lock another run holds (default 0: fail at once).",
               \.lockTimeout) { text throws(UsageError) in
            guard let seconds = Double(text), seconds >= 0, seconds <= 86400 else {
                throw UsageError(message: "--lock-timeout must be a number of seconds from 0 to 86400, not '\(text)'")
            }
            return seconds
        },
    ]

    /// The shared state named, checked; nil without --backend. Its companions without it are refused.
    func settings(command: String) throws(UsageError) -> RemoteStateSettings? {
        guard let url else {
            if kmsKey != nil || region != nil || leaseSeconds != nil {
                throw UsageError(message: "--backend-kms-key, --backend-region and --lock-lease go with --backend s3://BUCKET/KEY", command: command)
            }
            return nil
        }
        do {
            return try RemoteStateSettings.parse(url: url, kmsKey: kmsKey, region: region, leaseSeconds: leaseSeconds)
        } catch {
            throw UsageError(message: error.message, command: command)
        }
    }
}
