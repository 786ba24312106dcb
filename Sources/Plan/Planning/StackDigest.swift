import AWS
import Stack

/// A SHA-256 over the stack file and its four templates: any edit to any of them changes it.
public enum StackDigest {
    public static func compute(_ configuration: StackConfiguration) -> String {
        var bytes: [UInt8] = []
        func add(_ label: String, _ text: String) {
            bytes += Array(label.utf8) + [0] + Array(String(text.utf8.count).utf8) + [0] + Array(text.utf8)
        }
        add("stack", configuration.stack.text)
        for template in configuration.templates { add(template.phase.rawValue, template.text) }
        return "sha256:" + Digest.hex(Digest.sha256(bytes))
    }
}
