/// What apply and destroy share on the command line.
enum ApplySupport {
    /// `--parallelism <n>`, default 8, for apply and destroy.
    static func parallelismBinding<Options>(_ property: WritableKeyPath<Options, Int> & Sendable) -> OptionBinding<Options> {
        .value("parallelism", "n", "How many resources to work on at once (default 8).", property) { text throws(UsageError) in
            guard let value = Int(text), (1...64).contains(value) else {
                throw UsageError(message: "--parallelism must be a whole number from 1 to 64, not '\(text)'")
            }
            return value
        }
    }
}
