/// A CycloneDX 1.5 document as deploy writes it (`sbom.cdx.json`) and reads it back when a bundle is inspected.
public struct SBOMDocument: Codable, Sendable, Equatable {
    /// One name-value pair of a component (`deploy:role`, `gguf:architecture`, ...).
    public struct Property: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public struct Hash: Codable, Sendable, Equatable {
        public var alg: String
        public var content: String
    }

    /// A file of the bundle: an application (the binaries), a machine-learning model (a GGUF) or a plain file.
    public struct Component: Codable, Sendable, Equatable {
        public var type: String
        public var name: String
        public var version: String?
        public var bomRef: String?
        public var hashes: [Hash]?
        public var properties: [Property]?

        enum CodingKeys: String, CodingKey {
            case type, name, version, hashes, properties
            case bomRef = "bom-ref"
        }
    }

    public struct Metadata: Codable, Sendable, Equatable {
        public struct Tools: Codable, Sendable, Equatable {
            public var components: [Component]
        }
        public var timestamp: String
        public var tools: Tools
        public var component: Component
    }

    public var bomFormat = "CycloneDX"
    public var specVersion = "1.5"
    public var version = 1
    public var serialNumber: String
    public var metadata: Metadata
    public var components: [Component]
}
