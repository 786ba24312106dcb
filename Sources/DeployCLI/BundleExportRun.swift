import Bundling
import Foundation
import Glibc
import Stack

/// `bundle export`: gathers what the stack needs (binaries, stack, templates, pricing, artifacts, models, plan)
/// under the layout an import restores (Stacks/, Templates/, bin/, models/), and writes the bundle.
enum BundleExportRun {
    static func run(_ arguments: BundleCommand.Options, _ context: CommandContext) throws -> Int32 {
        let options = try arguments.stack.required(command: BundleCommand.name)
        let out = try arguments.given(arguments.out, "out")
        let configuration = try options.loadConfiguration(warnings: context.console)
        let inputs = try inputs(configuration, arguments)
        let key = try arguments.signKey.map(BundleKeys.privateKey)
        if arguments.deploy == nil, usesSharedSwiftRuntime {
            context.console.err("warning: this deploy loads the Swift runtime from the toolchain; a site without it needs one built with "
                + "--static-swift-stdlib (pass it as --deploy FILE)")
        }
        if key == nil { context.console.err("warning: the bundle is not signed (no --sign-key): verify and import will refuse it") }
        var created = Int64(Date().timeIntervalSince1970)
        if let text = context.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text), value >= 0 else {
                throw UsageError(message: "SOURCE_DATE_EPOCH must be seconds since 1970, not '\(text)'", command: BundleCommand.name)
            }
            created = value
        }
        // the release number a site compares with the last one it applied: given, or the creation time in seconds
        let sequence = arguments.sequence ?? created
        let showsProgress = isatty(STDERR_FILENO) == 1 && context.options.output == .text
        let started = Date()
        let result = try BundleExport.write(inputs, stack: "Stacks/" + (configuration.stack.file as NSString).lastPathComponent,
                                            tools: ["deploy": DeployCLI.version, "inference-server": DeployCLI.version],
                                            platform: platform, created: created, sequence: sequence, key: key, to: out,
                                            partSize: arguments.split) { done, total in
            if showsProgress { FileHandle.standardError.write(Data("\rexporting \(BundleSizes.text(done)) of \(BundleSizes.text(total))".utf8)) }
        }
        if showsProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        let seconds = Date().timeIntervalSince(started)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(Summary(bundle: out, bundle_id: result.manifest.bundleID,
                                                            sequence: result.manifest.sequence, size: result.size,
                                                            files: result.manifest.files.count, signer: key?.publicKey.fingerprint)))
        case .text:
            context.console.out("wrote \(out): \(result.manifest.files.count) files, \(BundleSizes.text(result.size)), "
                + "in \(String(format: "%.1f", seconds)) s")
            context.console.out("bundle id \(result.manifest.bundleID), sequence \(result.manifest.sequence)"
                + (key.map { ", signed by \($0.publicKey.fingerprint)" } ?? ", unsigned"))
        }
        return ExitCode.success
    }

    struct Summary: Encodable {
        var bundle: String
        var bundle_id: String
        var sequence: Int64
        var size: Int64
        var files: Int
        var signer: String?
    }

    static var platform: String {
        #if arch(x86_64)
        "linux-x86_64"
        #else
        "linux-aarch64"
        #endif
    }

    /// Every file of the bundle, with its place and role.
    static func inputs(_ configuration: StackConfiguration, _ arguments: BundleCommand.Options) throws -> [BundleInput] {
        let stackFile = configuration.stack.file
        let stackDirectory = absolute((stackFile as NSString).deletingLastPathComponent)
        let templates = absolute(configuration.templatesDirectory)
        if let named = configuration.stack.templates, absolute(stackDirectory + "/../Templates") != templates {
            throw UsageError(message: "the stack names its own templates directory (\(named)); a bundle holds Templates/ beside Stacks/", command: BundleCommand.name)
        }
        var inputs = [BundleInput(path: "Stacks/" + (stackFile as NSString).lastPathComponent, source: stackFile, role: "stack")]
        for phase in Phase.allCases {
            inputs.append(BundleInput(path: "Templates/\(phase.rawValue).json5", source: templates + "/\(phase.rawValue).json5", role: "template"))
        }
        let pricing = templates + "/pricing.json5"
        if FileManager.default.fileExists(atPath: pricing) { inputs.append(BundleInput(path: "Templates/pricing.json5", source: pricing, role: "pricing")) }
        var locating = configuration
        locating.hashesArtifacts = false
        var expander = Expander(locating)
        let roots = configuration.artifactRoots
        for resource in try expander.expand().resources {
            guard let artifact = resource.artifact else { continue }
            let path = absolute(artifact.path)
            let place: String
            // the expansion refused a file outside both trees already; this names where it goes in the bundle
            switch roots.place(path) {
            case .inside(.templates, let relative): place = "Templates/" + relative
            case .inside(.stack, let relative): place = "Stacks/" + relative
            case .outside, .linkedOutside:
                throw UsageError(message: "\(resource.address): its file \(artifact.path) is outside the stack's directory and the templates; "
                                 + "a bundle keeps files where the stack finds them", command: BundleCommand.name)
            }
            if !inputs.contains(where: { $0.path == place }) {
                inputs.append(BundleInput(path: place, source: path, role: "artifact", executable: access(path, X_OK) == 0))
            }
        }
        let deploy = arguments.deploy ?? executablePath ?? CommandLine.arguments[0]
        guard FileManager.default.fileExists(atPath: deploy) else { throw UsageError(message: "no deploy binary at \(deploy)", command: BundleCommand.name) }
        inputs.append(BundleInput(path: "bin/deploy", source: deploy, role: "deploy", executable: true))
        let server = arguments.server ?? ((executablePath.map { ($0 as NSString).deletingLastPathComponent } ?? ".") + "/inference-server")
        guard FileManager.default.fileExists(atPath: server) else {
            throw UsageError(message: "no inference-server at \(server); name it with --server", command: BundleCommand.name)
        }
        inputs.append(BundleInput(path: "bin/inference-server", source: server, role: "inference-server", executable: true))
        for model in arguments.models {
            guard FileManager.default.fileExists(atPath: model) else { throw UsageError(message: "no model file at \(model)", command: BundleCommand.name) }
            inputs.append(BundleInput(path: "models/" + (model as NSString).lastPathComponent, source: model, role: "model"))
        }
        if let plan = arguments.plan {
            guard FileManager.default.fileExists(atPath: plan) else { throw UsageError(message: "no plan file at \(plan)", command: BundleCommand.name) }
            inputs.append(BundleInput(path: "plan.json", source: plan, role: "plan"))
        }
        return inputs
    }

    /// `path` from the root, with `.` and `..` resolved.
    static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path.isEmpty ? "." : path).standardizedFileURL.path
    }

    /// Whether this process loaded the Swift runtime as a shared library (a build without --static-swift-stdlib).
    static var usesSharedSwiftRuntime: Bool {
        // /proc files report no size: read to the end
        let maps = FileHandle(forReadingAtPath: "/proc/self/maps")?.readDataToEndOfFile() ?? Data()
        return String(decoding: maps, as: UTF8.self).contains("libswiftCore.so")
    }

    /// This process's executable, as the kernel knows it.
    static var executablePath: String? {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    }
}
