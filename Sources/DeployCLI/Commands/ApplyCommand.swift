import Deployment
import Foundation
import Plan
import Stack

/// `deploy apply`: makes the account match the stack, phase by phase.
struct ApplyCommand: Command {
    static let name = "apply"
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Create, change and replace resources until the account matches the stack."
    static let discussion = """
        Refuses a plan that fails a critical compliance check (see deploy check) unless --allow-findings; checks that \
        the credentials belong to the stack's account, takes the state lock, refreshes, plans, shows the plan and asks \
        (or --auto-approve). Phases run in order; inside a phase independent resources run in parallel. \
        The state is written after every step, so an interrupted apply is finished by running it again. Given a saved \
        plan file instead of --stack, apply refuses it if the stack or the state changed since. With --bundle, the \
        state records each signer's last bundle (its id, sequence and key fingerprint); a bundle from the same signer \
        whose sequence is not higher (an older release, or the same bundle again once its apply finished) is refused \
        before anything is read or changed, unless --allow-downgrade, which the state then records.
        """
    static let positionals = ["[PLANFILE]"]

    struct Options: CommandOptions {
        var stack = StackSelection()
        var phase: Phase?
        var parallelism = 8
        var autoApprove = false
        var noRefresh = false
        var allowFindings = false
        var bundle: String?
        var pubkey: String?
        var allowDowngrade = false
        var positionals: [String] = []

        static let bindings: [OptionBinding<Self>] = StackSelection.bindings(\.stack) + [
            .value("phase", "name", "Apply one phase and what it needs from earlier phases.", \.phase) { phase throws(UsageError) in
                guard let known = Phase(rawValue: phase) else {
                    throw UsageError(message: Suggestion.message("unknown phase '\(phase)'", for: phase, among: Phase.allCases.map(\.rawValue)))
                }
                return known
            },
            ApplySupport.parallelismBinding(\.parallelism),
            .flag("auto-approve", "Apply without asking.", \.autoApprove),
            .flag("no-refresh", "Plan against the recorded state without reading the account.", \.noRefresh),
            .flag("allow-findings", "Apply even when the plan fails a critical compliance check.", \.allowFindings),
            .value("bundle", "file", "Apply the stack of a bundle (deploy bundle export), verified first; needs --pubkey and --state.", \.bundle),
            .value("pubkey", "key", "With --bundle: the Ed25519 public key the bundle must be signed with.", \.pubkey),
            .flag("allow-downgrade", "With --bundle: apply a bundle not newer than the last one applied from its signer (recorded).",
                  \.allowDowngrade),
        ]

        func validate() throws(UsageError) {
            guard positionals.count <= 1 else {
                throw UsageError(message: "unexpected argument '\(positionals[1])'", command: name)
            }
            if bundle != nil {
                guard stack.stackPath == nil, positionals.isEmpty else {
                    throw UsageError(message: "--bundle brings its own stack: give neither --stack nor a plan file", command: name)
                }
                guard pubkey != nil else { throw UsageError(message: "--bundle needs --pubkey, the key it must be signed with", command: name) }
                guard stack.statePath != nil else {
                    throw UsageError(message: "--bundle needs --state: the bundle's stack is unpacked to a temporary directory", command: name)
                }
            } else if allowDowngrade {
                throw UsageError(message: "--allow-downgrade concerns a bundle's release sequence: it needs --bundle", command: name)
            } else if positionals.isEmpty, stack.stackPath == nil {
                throw UsageError(message: "give --stack <file> or a saved plan file", command: name)
            }
            if !positionals.isEmpty, stack.stackPath != nil {
                throw UsageError(message: "give either --stack or a plan file, not both", command: name)
            }
        }    }

    static func run(_ parsed: Options, _ context: CommandContext) async throws -> Int32 {
        var selection = parsed.stack
        let saved = try parsed.positionals.first.map(PlanFile.read)
        if let saved {
            selection.stackPath = saved.stackFile
            if selection.templates == nil { selection.templates = saved.templatesDirectory }
            // a shared state is named by the stack or --backend again, never as a --state path
            if selection.statePath == nil, !saved.statePath.hasPrefix("s3://") { selection.statePath = saved.statePath }
        }
        var bundled: BundledStack?
        if let bundle = parsed.bundle, let statePath = selection.statePath, let pubkey = parsed.pubkey {
            let unpacked = try BundledStack.open(bundle, key: try BundleKeys.publicKey(pubkey), statePath: statePath,
                                                 allowDowngrade: parsed.allowDowngrade)
            bundled = unpacked
            selection.stackPath = unpacked.stackPath
            context.console.err("bundle \(bundle): sequence \(unpacked.release.sequence), signed by \(unpacked.release.signer) (the key given), "
                + "every byte checked; artifacts upload from it")
        }
        defer { bundled?.remove() }
        var options = try selection.required(command: name)
        options.bundledArtifacts = bundled?.artifacts ?? [:]
        let loaded = try await options.load(context)
        if let saved, saved.statePath.hasPrefix("s3://") || loaded.store.location.hasPrefix("s3://"), saved.statePath != loaded.store.location {
            throw UsageError(message: "the plan was made against the state in \(saved.statePath), but this run reads \(loaded.store.location); "
                                 + "give the same --backend as the plan", command: name)
        }
        let deployment = Deployment(loaded, context, autoApprove: parsed.autoApprove, parallelism: parsed.parallelism)
        let request = Deployment.ApplyRequest(saved: saved, bundle: bundled?.release, allowDowngrade: parsed.allowDowngrade,
                                              refresh: !parsed.noRefresh, phase: parsed.phase, allowFindings: parsed.allowFindings)
        return RunReporter(context).finish(try await deployment.apply(request), .apply)
    }
}
