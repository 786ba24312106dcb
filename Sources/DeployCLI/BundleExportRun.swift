import Bundling
import Deployment
import Foundation
import Glibc
import Stack

/// `bundle export`: gathers what the stack needs (binaries, stack, templates, pricing, artifacts, models, plan)
/// under the layout an import restores (Stacks/, Templates/, bin/, models/), and writes the bundle.
enum BundleExportRun {
    static func run(_ arguments: BundleCommand.Options, _ context: CommandContext) async throws -> Int32 {
        let options = try arguments.stack.required(command: BundleCommand.name)
        let out = try arguments.given(arguments.out, "out")
        // the artifacts are read and hashed as they are written into the bundle: the expansion only locates them
        let loaded = try await options.load(context, readingState: false, hashingArtifacts: false)
        let configuration = loaded.configuration
        let contents = BundleContents(deploy: arguments.deploy ?? executablePath ?? CommandLine.arguments[0],
                                      server: arguments.server ?? ((executablePath.map { ($0 as NSString).deletingLastPathComponent } ?? ".") + "/inference-server"),
                                      models: arguments.models, plan: arguments.plan)
        let inputs = try contents.inputs(loaded)
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
