import Foundation
import Plan
import Stack

/// The stack `deploy bootstrap` applies to make what a shared state lives in: the bucket (versioning, SSE-KMS, Block
/// Public Access, TLS only, Object Lock when asked) and, when the state names its key by an alias, the KMS key. It
/// is an ordinary stack over `Templates/state-backend`, so the same handlers, plan and compliance checks make it; its
/// own state stays in a local file beside the stack's (the bucket cannot hold the state of its own making).
public enum StateBootstrap {
    /// Where the bootstrap stack and its state are written: `.deploy/bootstrap/` beside the stack file.
    public static func directory(stackFile: String) -> String {
        let directory = (stackFile as NSString).deletingLastPathComponent
        return ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(".deploy/bootstrap")
    }

    /// The bootstrap stack's name: the stack's, cut to leave room, with `-state`.
    public static func name(for stack: StackFile) -> String {
        var base = String(stack.name.prefix(26))
        while base.hasSuffix("-") { base.removeLast() }
        return base + "-state"
    }

    /// The bootstrap stack's text (JSON, which JSON5 reads): the stack's account and role, the bucket's region,
    /// the templates in `templatesDirectory/state-backend`.
    public static func stackText(for stack: StackFile, settings: RemoteStateSettings, templatesDirectory: String) throws -> String {
        var keys: [String: Any] = [:]
        if settings.kmsKey.hasPrefix("alias/") { keys["alias"] = settings.kmsKey } else { keys["existing_key"] = settings.kmsKey }
        var document: [String: Any] = [
            "name": name(for: stack),
            "description": "The bucket and key of \(stack.name)'s shared state (deploy bootstrap)",
            "account": stack.account,
            "region": settings.region,
            "templates": Paths.absolute((templatesDirectory as NSString).appendingPathComponent("state-backend")),
            "tags": stack.tags.merging(["state-of": stack.name]) { $1 },
            "phases": ["keys": keys, "storage": ["bucket": settings.bucket, "object_lock_days": settings.objectLockDays]],
        ]
        if let role = stack.role {
            document["role"] = ["arn": role.arn, "external_id": role.externalID].compactMapValues { $0 }
        }
        if !stack.allow.regions.isEmpty { document["allow"] = ["regions": stack.allow.regions.sorted()] }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return "// Written by deploy bootstrap for \(stack.name); edit the stack's state block instead.\n" + String(decoding: data, as: UTF8.self) + "\n"
    }
}
