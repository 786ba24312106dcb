import Foundation

/// A stack fixture whose state is shared in a bucket of its own, made by `deploy bootstrap` (as the outside admin):
/// either declared in the stack's `state` block, or named on the command line with `--backend`. Each fixture has
/// its own cache of snapshots seen (`XDG_CACHE_HOME`), so a test can play a second machine with another.
struct SharedStateFixture {
    let stack: StackFixture
    let bucket: String
    let key: String
    let alias: String
    let declared: Bool
    let cache: String

    var url: String { "s3://\(bucket)/\(key)" }
    var lockKey: String { key + ".lock" }
    var name: String { stack.name }
    var region: String { stack.region }

    /// `declared`: the stack's state block names the state; otherwise every command is given `--backend`.
    init(prefix: String, lease: Int = 300, declared: Bool = true) throws {
        stack = try StackFixture(prefix: prefix)
        // not named after the stack: the census counts the stack's buckets by that prefix
        bucket = "state-\(stack.name)"
        key = "teams/ml/\(stack.name).state"
        alias = "alias/state-\(stack.name)"
        self.declared = declared
        cache = stack.directory.appendingPathComponent("cache").path
        if declared {
            var text = try String(contentsOfFile: stack.stackPath, encoding: .utf8)
            let anchor = "region: \"\(stack.region)\","
            guard let range = text.range(of: anchor) else { throw OutsideActor.Failure(description: "no region line in the stack") }
            text.replaceSubrange(range, with: anchor + "\n  state: { bucket: \"\(bucket)\", key: \"\(key)\", kms_key: \"\(alias)\", "
                                 + "lock_lease_seconds: \(lease) },")
            try text.write(toFile: stack.stackPath, atomically: true, encoding: .utf8)
        }
        let bootstrap = try DeployProcess.run(["bootstrap", "--auto-approve", "--stack", stack.stackPath] + backendArguments,
                                              environment: environment(try LocalEndpoint.require().adminEnvironment))
        guard bootstrap.status == 0 else { throw OutsideActor.Failure(description: "bootstrap: \(bootstrap.stderr)\(bootstrap.stdout)") }
    }

    /// `--backend` and its key, when the stack does not declare its state.
    var backendArguments: [String] {
        declared ? [] : ["--backend", url, "--backend-kms-key", alias]
    }

    /// `base` with this fixture's cache of snapshots seen (or `cache`, for another machine's).
    func environment(_ base: [String: String], cache: String? = nil) -> [String: String] {
        var environment = base
        environment["XDG_CACHE_HOME"] = cache ?? self.cache
        return environment
    }

    /// Runs `deploy` on this stack and its shared state.
    func deploy(_ arguments: [String], _ environment: [String: String], timeout: Double? = 240) throws -> DeployProcess.Result {
        try DeployProcess.run(arguments + ["--stack", stack.stackPath] + backendArguments, environment: self.environment(environment),
                              timeout: timeout)
    }

    /// The ids of the state object's versions (delete markers left out), newest first, as S3 lists them.
    func versions() throws -> [String] {
        let output = try OutsideActor.run("""
            listed = s3.list_object_versions(Bucket=\(OutsideActor.pythonString(bucket)), Prefix='teams')
            print(json.dumps([v["VersionId"] for v in listed.get("Versions", []) if v["Key"] == \(OutsideActor.pythonString(key))]))
            """, region: region)
        return try JSONDecoder().decode([String].self, from: Data(output.utf8))
    }

    /// The current state object's bytes as text, or nil when there is none.
    func stateObject() throws -> String? {
        let output = try OutsideActor.run("""
            try:
                print(s3.get_object(Bucket=\(OutsideActor.pythonString(bucket)), Key=\(OutsideActor.pythonString(key)))["Body"].read().decode())
            except s3.exceptions.NoSuchKey:
                print("ABSENT")
            """, region: region)
        let text = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return text == "ABSENT" ? nil : text
    }

    /// Puts a lock object in place as another machine would have written it (or as someone planting one would).
    func plantLock(id: String, who: String = "someone", host: String = "elsewhere", pid: Int = 1, lease: Int = 300,
                   newestSerial: String? = nil) throws {
        let newest = newestSerial.map { ", \"newestSeen\": {\"serial\": \($0), \"sha256\": \"00\"}" } ?? ""
        try OutsideActor.run("""
            s3.put_object(Bucket='\(bucket)', Key='\(lockKey)', Body=b'{"holder": {"id": "\(id)", "operation": "apply", "who": "\(who)", \\
            "host": "\(host)", "pid": \(pid), "created": "2026-11-22T08:00:00Z"}, "leaseSeconds": \(lease), "renewals": 0\(newest)}')
            """, region: region)
    }

    /// Whether the lock object exists.
    func isLocked() throws -> Bool {
        try OutsideActor.run("""
            try:
                s3.head_object(Bucket=\(OutsideActor.pythonString(bucket)), Key=\(OutsideActor.pythonString(lockKey)))
                print("LOCKED")
            except Exception:
                print("FREE")
            """, region: region).contains("LOCKED")
    }

    /// Applies the stack (or one phase) as the outside admin, failing the test's setup if it does not succeed.
    func applied(phase: String? = nil, _ environment: [String: String]) throws {
        let apply = try deploy(["apply", "--auto-approve"] + (phase.map { ["--phase", $0] } ?? []), environment)
        guard apply.status == 0 else { throw OutsideActor.Failure(description: "apply: \(apply.stderr)\(apply.stdout)") }
    }

    /// Destroys whatever the stack made and the fixture's files; the state bucket stays (it is protected and the
    /// endpoint is thrown away with the run).
    func remove(_ environment: [String: String]) {
        _ = try? deploy(["destroy", "--auto-approve", "--force", "--empty-buckets"], environment)
        stack.remove()
    }
}
