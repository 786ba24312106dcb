import AWS
import Hashing
import Stack

extension Plan {
    /// SHA-256 over every change's action, address, attribute and planned value (an artifact's digest among them;
    /// a sensitive value is never held in a plan, so never in this either): what a saved plan pins, so that apply
    /// sets exactly the values that were reviewed.
    public var valuesDigest: String {
        var bytes: [UInt8] = []
        func add(_ text: String) { bytes += Array(text.utf8) + [0] }
        for action in actions where action.kind != .noop {
            add(action.kind.rawValue)
            add(action.address.description)
            for change in action.changes.sorted(by: { $0.name < $1.name }) {
                add(change.name)
                add(change.after.map(\.sortKey) ?? "-")
            }
        }
        return "sha256:" + Digest.hex(Digest.sha256(bytes))
    }
}
