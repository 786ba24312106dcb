/// What a run does to the whole stack, as its closing lines and JSON summary name it.
enum StackOperation: String, Sendable {
    case apply, destroy
}
