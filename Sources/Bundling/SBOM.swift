import Foundation
import GGUF

/// The bundle's software bill of materials, CycloneDX 1.5 JSON: the binaries with their versions, each GGUF model
/// with its architecture, parameter count and dominant quantisation, and the stack, templates and artifacts as files.
enum SBOM {
    static let path = "sbom.cdx.json"

    static func document(files: [BundleManifest.File], sources: [String: String], tools: [String: String], created: String,
                         bundleID: String) throws(BundleError) -> [UInt8] {
        let components = files.map { file in
            var component = SBOMDocument.Component(type: "file", name: (file.path as NSString).lastPathComponent, bomRef: file.path,
                                                   hashes: [.init(alg: "SHA-256", content: file.sha256)])
            var properties: [SBOMDocument.Property] = []
            switch file.role {
            case "deploy", "inference-server":
                component.type = "application"
                component.name = file.role
                component.version = tools[file.role]
            default:
                if file.path.hasSuffix(".gguf"), let source = sources[file.path], let model = try? GGUFFile.open(source) {
                    component.type = "machine-learning-model"
                    if let name = model.string("general.name") { component.name = name }
                    properties = modelProperties(model).map { SBOMDocument.Property(name: $0.0, value: $0.1) }
                }
            }
            component.properties = properties + [.init(name: "deploy:role", value: file.role)]
            return component
        }
        let document = SBOMDocument(
            serialNumber: "urn:uuid:" + uuid(from: bundleID),
            metadata: .init(timestamp: created,
                            tools: .init(components: [.init(type: "application", name: "deploy", version: tools["deploy"] ?? "")]),
                            component: .init(type: "application", name: "deploy bundle", version: String(bundleID.prefix(12)))),
            components: components)
        return try CanonicalJSON.encode(document, as: path)
    }

    /// Architecture, parameters and the tensor type holding the most bytes (the quantisation people name a file by).
    static func modelProperties(_ model: GGUFFile) -> [(String, String)] {
        var properties: [(String, String)] = []
        if let architecture = model.string("general.architecture") { properties.append(("gguf:architecture", architecture)) }
        var bytes: [String: Int] = [:]
        var parameters = 0
        for tensor in model.tensors {
            bytes["\(tensor.type)".uppercased(), default: 0] += tensor.byteCount
            parameters += tensor.elementCount
        }
        if let dominant = bytes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
            properties.append(("gguf:quantization", dominant.key))
        }
        properties.append(("gguf:parameters", String(parameters)))
        properties.append(("gguf:version", String(model.version)))
        return properties
    }

    /// A version-4-shaped UUID made from the bundle id, so the same bundle has the same serial number.
    static func uuid(from hex: String) -> String {
        var digits = Array(hex.prefix(32))
        digits[12] = "4"
        digits[16] = ["8", "9", "a", "b"][Int(String(digits[16]), radix: 16)! % 4]
        let text = String(digits)
        let cuts = [8, 12, 16, 20]
        var parts: [String] = []
        var start = text.startIndex
        for cut in cuts {
            let end = text.index(text.startIndex, offsetBy: cut)
            parts.append(String(text[start..<end]))
            start = end
        }
        parts.append(String(text[start...]))
        return parts.joined(separator: "-")
    }
}
