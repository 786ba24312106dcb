import Bundling
import Foundation
import Glibc
import Stack

/// What `bundle export` puts in a bundle for a stack, under the layout an import restores: the stack (Stacks/), its
/// templates and price catalog (Templates/), every artifact the stack uploads where the stack finds it, the two
/// binaries (bin/), models (models/) and a saved plan.
public struct BundleContents: Sendable {
    /// The `deploy` binary to ship.
    public var deploy: String
    /// The `inference-server` binary to ship.
    public var server: String
    public var models: [String]
    /// A plan file (`deploy plan --out`) to ship with the stack.
    public var plan: String?

    public init(deploy: String, server: String, models: [String] = [], plan: String? = nil) {
        self.deploy = deploy
        self.server = server
        self.models = models
        self.plan = plan
    }

    /// Every file of the bundle, with its place and role; a file that is missing, or that the layout cannot hold,
    /// is refused before anything is written. `loaded` may be expanded without hashing: only places are read.
    public func inputs(_ loaded: LoadedStack) throws -> [BundleInput] {
        let configuration = loaded.configuration
        let stackFile = configuration.stack.file
        let stackDirectory = Self.absolute((stackFile as NSString).deletingLastPathComponent)
        let templates = Self.absolute(configuration.templatesDirectory)
        if let named = configuration.stack.templates, Self.absolute(stackDirectory + "/../Templates") != templates {
            throw Refused("the stack names its own templates directory (\(named)); a bundle holds Templates/ beside Stacks/", hint: Self.hint)
        }
        var inputs = [BundleInput(path: "Stacks/" + (stackFile as NSString).lastPathComponent, source: stackFile, role: "stack")]
        for phase in Phase.allCases {
            inputs.append(BundleInput(path: "Templates/\(phase.rawValue).json5", source: templates + "/\(phase.rawValue).json5", role: "template"))
        }
        let pricing = templates + "/pricing.json5"
        if FileManager.default.fileExists(atPath: pricing) { inputs.append(BundleInput(path: "Templates/pricing.json5", source: pricing, role: "pricing")) }
        let roots = configuration.artifactRoots
        for resource in loaded.expanded.resources {
            guard let artifact = resource.artifact else { continue }
            let path = Self.absolute(artifact.path)
            let place: String
            // the expansion refused a file outside both trees already; this names where it goes in the bundle
            switch roots.place(path) {
            case .inside(.templates, let relative): place = "Templates/" + relative
            case .inside(.stack, let relative): place = "Stacks/" + relative
            case .outside, .linkedOutside:
                throw Refused("\(resource.address): its file \(artifact.path) is outside the stack's directory and the templates; "
                              + "a bundle keeps files where the stack finds them", hint: Self.hint)
            }
            if !inputs.contains(where: { $0.path == place }) {
                inputs.append(BundleInput(path: place, source: path, role: "artifact", executable: access(path, X_OK) == 0))
            }
        }
        try Self.require(deploy, "no deploy binary at \(deploy)")
        inputs.append(BundleInput(path: "bin/deploy", source: deploy, role: "deploy", executable: true))
        try Self.require(server, "no inference-server at \(server); name it with --server")
        inputs.append(BundleInput(path: "bin/inference-server", source: server, role: "inference-server", executable: true))
        for model in models {
            try Self.require(model, "no model file at \(model)")
            inputs.append(BundleInput(path: "models/" + (model as NSString).lastPathComponent, source: model, role: "model"))
        }
        if let plan {
            try Self.require(plan, "no plan file at \(plan)")
            inputs.append(BundleInput(path: "plan.json", source: plan, role: "plan"))
        }
        return inputs
    }

    private static let hint = "See 'deploy bundle --help'."

    private static func require(_ path: String, _ message: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw Refused(message, hint: hint) }
    }

    /// `path` from the root, with `.` and `..` resolved.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path.isEmpty ? "." : path).standardizedFileURL.path
    }
}
