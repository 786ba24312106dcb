import AWS
import Deployment
import Foundation
import Plan
import Stack

/// `deploy state history | push | pull`: the versions of a state shared in a bucket, and a state moved between a
/// local file and its bucket with both locks held.
enum SharedStateVerbs {
    enum Verb: String {
        case history, push, pull, restore
    }

    static func run(_ verb: Verb, _ parsed: StateCommand.Options, _ context: CommandContext) async throws -> Int32 {
        let options = try parsed.stack.required(command: StateCommand.name)
        let configuration = try options.loadConfiguration()
        let stack = configuration.stack
        let source = options.source(context)
        guard let settings = try source.sharedSettings(for: stack), let connect = source.connect else {
            throw UsageError(message: "state \(verb.rawValue) works on a shared state: the stack has no state block, and no --backend was given",
                             command: StateCommand.name)
        }
        let shared = S3StateBackend(settings: settings, client: try connect(stack), unlockCommand: source.unlockCommand(settings, stack: stack))
        let local = StateStore(path: parsed.positionals.dropFirst().first ?? source.localStore(stackName: stack.name).path)
        switch verb {
        case .history:
            try await history(shared, limit: parsed.limit, context)
        case .push:
            try await holding([local, shared], "state push", timeout: options.lockTimeout, context) {
                guard let state = try await local.load(for: stack) else {
                    throw NotConfirmed(description: "there is no state at \(local.path) to push")
                }
                if let existing = try await shared.load(for: stack), !parsed.force {
                    throw NotConfirmed(description: "\(settings.url) already holds a state (\(existing.resources.count) resources, serial "
                                           + "\(existing.serial)); nothing was pushed. --force replaces it (the bucket keeps it as a version)")
                }
                // parked first, so that a push that succeeded never leaves the local file to be applied against; put
                // back if the write fails
                let parked = try park(local.path)
                do {
                    try await shared.write(state)
                } catch {
                    try? unpark(parked, to: local.path)
                    throw error
                }
                context.console.out("Pushed the state of \(stack.name) (\(state.resources.count) resources, serial \(state.serial)) from "
                                    + "\(local.path) to \(settings.url), encrypted under \(settings.kmsKey). The local file is now \(parked.state), "
                                    + "so that nothing applies against it again.")
            }
        case .restore:
            let version = parsed.positionals[1]
            try await holding([shared], "state restore", timeout: options.lockTimeout, context) {
                let (state, serial) = try await shared.restore(versionID: version, for: stack)
                context.console.out("Restored version \(version) of \(settings.url) (\(state.resources.count) resources) as snapshot \(serial), "
                                    + "the newest; run plan to compare it with the account.")
            }
        case .pull:
            try await holding([local, shared], "state pull", timeout: options.lockTimeout, context) {
                guard let state = try await shared.load(for: stack) else {
                    throw NotConfirmed(description: "\(settings.url) holds no state to pull")
                }
                if let existing = try await local.load(for: stack), !parsed.force {
                    throw NotConfirmed(description: "a local state exists at \(local.path) (\(existing.resources.count) resources, serial "
                                           + "\(existing.serial)); nothing was pulled. --force replaces it (the old one is kept as .backup)")
                }
                try local.write(state)
                context.console.out("Pulled the state of \(stack.name) (\(state.resources.count) resources, serial \(state.serial)) from "
                                    + "\(settings.url) to \(local.path). The shared state is unchanged: remove the stack's state block "
                                    + "(or stop giving --backend) to work from the local file.")
            }
        }
        return ExitCode.success
    }

    /// Renames a pushed state file and its backup to `.pushed` and `.pushed.backup`, replacing those of an earlier
    /// push (each is a version in the bucket already); returns the new names.
    static func park(_ path: String) throws -> (state: String, backup: String?) {
        let parked = (state: path + ".pushed", backup: FileManager.default.fileExists(atPath: path + ".backup") ? path + ".pushed.backup" : nil)
        for (from, to) in [(path, parked.state), (path + ".backup", parked.backup)] {
            guard let to else { continue }
            if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
            try FileManager.default.moveItem(atPath: from, toPath: to)
        }
        return parked
    }

    static func unpark(_ parked: (state: String, backup: String?), to path: String) throws {
        try FileManager.default.moveItem(atPath: parked.state, toPath: path)
        if let backup = parked.backup { try FileManager.default.moveItem(atPath: backup, toPath: path + ".backup") }
    }

    /// Runs `body` with every backend's lock held, taken in order and released in reverse, whatever happens.
    static func holding(_ backends: [any StateBackend], _ operation: String, timeout: Double, _ context: CommandContext,
                        _ body: () async throws -> Void) async throws {
        var held: [any StateLease] = []
        func releaseAll() async {
            for lease in held.reversed() { await lease.release() }
        }
        do {
            for backend in backends {
                let lease = try await backend.lock(operation: operation, timeout: timeout)
                held.append(lease)
                if let warning = lease.warning { context.console.err("warning: \(warning)") }
            }
            try await SignalTrap.deferring(body)
        } catch {
            await releaseAll()
            throw error
        }
        await releaseAll()
    }

    struct Listed: Encodable {
        var versionID: String
        var lastModified: String?
        var size: Int64
        var latest: Bool
        var deleted: Bool
        var serial: Int?
        var kmsKey: String?
        var followsPrevious: Bool?
    }

    static func history(_ shared: S3StateBackend, limit: Int, _ context: CommandContext) async throws {
        let versions = try await shared.history(limit: limit)
        let formatter = ISO8601DateFormatter()
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(versions.map {
                Listed(versionID: $0.versionID, lastModified: $0.lastModified.map(formatter.string), size: $0.size, latest: $0.isLatest,
                       deleted: $0.isDeleteMarker, serial: $0.serial, kmsKey: $0.keyID, followsPrevious: $0.followsPrevious)
            }))
        case .text:
            guard !versions.isEmpty else {
                context.console.out("\(shared.location) has no versions: nothing was ever written there.")
                return
            }
            let rows = versions.map { version -> [String] in
                let chain = version.isDeleteMarker ? "deleted" : version.followsPrevious.map { $0 ? "follows" : "BREAKS CHAIN" } ?? "-"
                return [version.versionID, version.lastModified.map(formatter.string) ?? "-", version.serial.map(String.init) ?? "-",
                        String(version.size), chain + (version.isLatest ? " (current)" : "")]
            }
            context.console.out(TextTable.rows([["VERSION", "WRITTEN", "SERIAL", "BYTES", "CHAIN"]] + rows))
        }
    }
}
