import Bundling
import TextSafety

/// Text that came out of a bundle (a claimed signer, a path, a name in the SBOM), made fit to show a person: control
/// characters escaped, and cut at 200 characters with a note of what was left out. Whatever the archive holds, it can
/// neither repaint the terminal nor flood it, nor pass for something deploy checked.
enum ArchiveText {
    static func shown(_ text: String) -> String {
        SafeText.quoted(text, limit: BundleError.quoteLimit)
    }
}
