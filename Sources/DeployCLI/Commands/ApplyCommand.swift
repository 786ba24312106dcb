import Deployment
import Foundation
import Plan
import Provision
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
    static let options = StackOptions.specs + StackOptions.stateSpecs + [
        .value("phase", "name", "Apply one phase and what it needs from earlier phases."),
        .value("parallelism", "n", "How many resources to work on at once (default 8)."),
        .flag("auto-approve", "Apply without asking."),
        .flag("no-refresh", "Plan against the recorded state without reading the account."),
        .flag("allow-findings", "Apply even when the plan fails a critical compliance check."),
        .value("bundle", "file", "Apply the stack of a bundle (deploy bundle export), verified first; needs --pubkey and --state."),
        .value("pubkey", "key", "With --bundle: the Ed25519 public key the bundle must be signed with."),
        .flag("allow-downgrade", "With --bundle: apply a bundle not newer than the last one applied from its signer (recorded)."),
    ]
    static let positionals = ["[PLANFILE]"]

    static func validate(_ arguments: ParsedArguments) throws(UsageError) {
        guard arguments.positionals.count <= 1 else {
            throw UsageError(message: "unexpected argument '\(arguments.positionals[1])'", command: name)
        }
        if arguments.value("bundle") != nil {
            guard arguments.value("stack") == nil, arguments.positionals.isEmpty else {
                throw UsageError(message: "--bundle brings its own stack: give neither --stack nor a plan file", command: name)
            }
            guard arguments.value("pubkey") != nil else { throw UsageError(message: "--bundle needs --pubkey, the key it must be signed with", command: name) }
            guard arguments.value("state") != nil else {
                throw UsageError(message: "--bundle needs --state: the bundle's stack is unpacked to a temporary directory", command: name)
            }
        } else if arguments.flag("allow-downgrade") {
            throw UsageError(message: "--allow-downgrade concerns a bundle's release sequence: it needs --bundle", command: name)
        } else if arguments.positionals.isEmpty, arguments.value("stack") == nil {
            throw UsageError(message: "give --stack <file> or a saved plan file", command: name)
        }
        if !arguments.positionals.isEmpty, arguments.value("stack") != nil {
            throw UsageError(message: "give either --stack or a plan file, not both", command: name)
        }
        _ = try ApplySupport.parallelism(arguments, command: name)
        if let phase = arguments.value("phase"), Phase(rawValue: phase) == nil {
            throw UsageError(message: Suggestion.message("unknown phase '\(phase)'", for: phase, among: Phase.allCases.map(\.rawValue)),
                             command: name)
        }
    }

    static func run(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        var options = try StackOptions.optional(arguments)
        let saved = try arguments.positionals.first.map(PlanFile.read)
        if let saved {
            options = StackOptions(stackPath: saved.stackFile, templates: options?.templates ?? saved.templatesDirectory,
                                   statePath: options?.statePath ?? saved.statePath)
        }
        var bundled: BundledStack?
        if let bundle = arguments.value("bundle"), let statePath = arguments.value("state"), let pubkey = arguments.value("pubkey") {
            let unpacked = try BundledStack.open(bundle, key: try BundleKeys.publicKey(pubkey), statePath: statePath,
                                                 allowDowngrade: arguments.flag("allow-downgrade"))
            bundled = unpacked
            options = StackOptions(stackPath: unpacked.stackPath, templates: nil, statePath: statePath, bundledArtifacts: unpacked.artifacts)
            context.console.err("bundle \(bundle): sequence \(unpacked.release.sequence), signed by \(unpacked.release.signer) (the key given), "
                + "every byte checked; artifacts upload from it")
        }
        defer { bundled?.remove() }
        guard let options else { throw UsageError(message: "give --stack <file> or a saved plan file", command: name) }
        let deployment = Deployment(try options.load(context.console), context, autoApprove: arguments.flag("auto-approve"),
                                    parallelism: try ApplySupport.parallelism(arguments, command: name))
        let request = Deployment.ApplyRequest(saved: saved, bundle: bundled?.release, allowDowngrade: arguments.flag("allow-downgrade"),
                                              refresh: !arguments.flag("no-refresh"), phase: arguments.value("phase").flatMap(Phase.init),
                                              allowFindings: arguments.flag("allow-findings"))
        return RunReporter(context).finish(try await deployment.apply(request), .apply)
    }
}
