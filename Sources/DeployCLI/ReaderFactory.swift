import Plan
import Stack

/// The readers a refresh uses, built on a session for the stack's account and region.
enum ReaderFactory {
    static func readers(_ context: CommandContext, _ configuration: StackConfiguration) throws -> [any ResourceReader] {
        []
    }
}
