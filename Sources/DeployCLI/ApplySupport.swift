/// What apply and destroy share on the command line.
enum ApplySupport {
    static func parallelism(_ arguments: ParsedArguments, command: String) throws(UsageError) -> Int {
        guard let text = arguments.value("parallelism") else { return 8 }
        guard let value = Int(text), (1...64).contains(value) else {
            throw UsageError(message: "--parallelism must be a whole number from 1 to 64, not '\(text)'", command: command)
        }
        return value
    }
}
