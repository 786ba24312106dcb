import Foundation

/// The JSON a bundle signs and lists digests of (its manifest, signature and SBOM): keys sorted, pretty-printed,
/// slashes unescaped, one newline at the end, so that the same value is always the same bytes.
enum CanonicalJSON {
    static func encode<Value: Encodable>(_ value: Value, as name: String) throws(BundleError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return Array(try encoder.encode(value)) + [UInt8(ascii: "\n")]
        } catch {
            throw BundleError("cannot encode \(name): \(error)")
        }
    }
}
