import Foundation
import Testing

/// The node's audit shipper (Templates/node/audit-shipper.sh) run under `sh` in a scratch root, with `aws` replaced by
/// a stand-in bucket that, like S3 with If-None-Match: *, refuses a put over a key it already holds (PreconditionFailed),
/// and fails on request. What was uploaded, what was recorded as shipped and what a later run does are checked.
/// NodeBootTests does the same against the local endpoint with the node role's own permissions.
@Suite("node audit shipper")
struct AuditShipperTests {
    static let instance = "i-0123456789abcdef0"
    static let key = "audit-key.pub.pem"
    static func checkpoint(_ sequence: Int) -> String { "checkpoint-" + String(format: "%020d", sequence) + ".json" }

    @Test("each checkpoint and the public key go to node-audit/<instance>/ once, conditionally, the key first; a second run uploads nothing")
    func shipsOnce() throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        try shipper.write([Self.checkpoint(2), Self.checkpoint(1), Self.key])
        let first = try shipper.run()
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.puts.map(\.key) == [Self.key, Self.checkpoint(1), Self.checkpoint(2)].map { "node-audit/\(Self.instance)/\($0)" })
        #expect(first.puts.allSatisfy { $0.conditional && $0.bucket == ShipperSandbox.bucket }, "every put is If-None-Match: *")
        #expect(first.calls.allSatisfy { $0.starts(with: ["s3api", "put-object"]) }, "the shipper only ever puts: \(first.calls)")
        for name in [Self.key, Self.checkpoint(1), Self.checkpoint(2)] {
            #expect(try shipper.stored(name) == shipper.local(name), "\(name) arrived whole")
        }
        #expect(first.stdout.contains("shipped 3 file(s)"), "\(first.stdout)")

        let second = try shipper.run()
        #expect(second.status == 0 && second.calls.isEmpty, "nothing new, nothing sent: \(second.calls)")

        try shipper.write([Self.checkpoint(3)])
        let third = try shipper.run()
        #expect(third.status == 0 && third.puts.map(\.key) == ["node-audit/\(Self.instance)/\(Self.checkpoint(3))"], "\(third.calls)")
    }

    @Test("only the checkpoint directory's own files ship: no temporary file, other name, short sequence or symbolic link",
          arguments: [".checkpoint-00000000000000000004.json.tmp", "checkpoint-4.json", "checkpoint-0000000000000000000x.json",
                      "checkpoint-000000000000000000004.json", "audit.jsonl", "audit-key.pem", "checkpoint-00000000000000000004.json.tmp"])
    func skipsOthers(_ name: String) throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        try shipper.write([name, Self.checkpoint(1)])
        try FileManager.default.createSymbolicLink(atPath: shipper.checkpoints.appendingPathComponent(Self.checkpoint(9)).path,
                                                   withDestinationPath: "/etc/passwd")
        let run = try shipper.run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.puts.map(\.key) == ["node-audit/\(Self.instance)/\(Self.checkpoint(1))"], "\(run.calls)")
    }

    @Test("a failed upload is not recorded: the run fails naming the file, the others are kept, and the next run sends only it")
    func retriesFailures() throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        try shipper.write([Self.key, Self.checkpoint(1), Self.checkpoint(2)])
        let failed = try shipper.run(failing: Self.checkpoint(1))
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("cannot upload \(Self.checkpoint(1))") && failed.stderr.contains("retries"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("AKIA") && !failed.stderr.contains("SECRET"), "no credentials in the message")
        #expect(!shipper.isRecorded(Self.checkpoint(1)) && shipper.isRecorded(Self.checkpoint(2)) && shipper.isRecorded(Self.key))
        #expect(throws: (any Error).self) { try shipper.stored(Self.checkpoint(1)) }

        let retried = try shipper.run()
        #expect(retried.status == 0 && retried.puts.map(\.key) == ["node-audit/\(Self.instance)/\(Self.checkpoint(1))"], "\(retried.calls)")
        #expect(try shipper.stored(Self.checkpoint(1)) == shipper.local(Self.checkpoint(1)))
    }

    @Test("every upload failing (the endpoint unreachable): nothing recorded, the next run sends everything")
    func endpointDown() throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        try shipper.write([Self.key, Self.checkpoint(1)])
        let down = try shipper.run(failing: "*")
        #expect(down.status != 0 && !shipper.isRecorded(Self.key) && !shipper.isRecorded(Self.checkpoint(1)))
        let up = try shipper.run()
        #expect(up.status == 0 && up.puts.count == 2, "\(up.calls)")
    }

    @Test("a file S3 already holds (uploaded by a run that stopped before recording it) is recorded, and the bucket's copy is not replaced")
    func alreadyThere() throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        try shipper.write([Self.checkpoint(1)])
        try shipper.putInBucket(Self.checkpoint(1), Data("the first copy".utf8))
        let run = try shipper.run()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(shipper.isRecorded(Self.checkpoint(1)))
        #expect(try shipper.stored(Self.checkpoint(1)) == Data("the first copy".utf8), "a put never replaces what is there")
        #expect(try shipper.run().calls.isEmpty)
    }

    @Test("an instance id that is not one ships nothing", arguments: ["i-../../x", "x-0123", "i-", "i-0123 4", "i-ABCDEF12", "i-01/..", "*"])
    func badInstance(_ id: String) throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        try shipper.write([Self.checkpoint(1)])
        let run = try shipper.run(instance: id)
        #expect(run.status != 0 && run.calls.isEmpty, "\(run.calls)")
        #expect(run.stderr.contains("is not an instance id"), "\(run.stderr)")
    }

    @Test("no checkpoint directory yet: nothing to do, and no error")
    func nothingYet() throws {
        let shipper = try ShipperSandbox()
        defer { shipper.remove() }
        let run = try shipper.run()
        #expect(run.status == 0 && run.calls.isEmpty && run.stderr.isEmpty, "\(run.stderr)")
    }
}

/// A scratch root holding the shipper's checkpoint and state directories, and a directory standing in for the
/// audit bucket that an `aws` stand-in writes to.
struct ShipperSandbox {
    static let bucket = "private-inference-123456789012-audit"
    let url: URL
    var root: URL { url.appendingPathComponent("root") }
    var checkpoints: URL { root.appendingPathComponent("var/log/inference/checkpoints") }
    private var bucketDirectory: URL { url.appendingPathComponent("bucket") }

    struct Put { var bucket: String; var key: String; var conditional: Bool }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-shipper-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Writes each named file into the checkpoint directory with distinct contents.
    func write(_ names: [String]) throws {
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        for name in names { try Data("{\"file\": \"\(name)\"}\n".utf8).write(to: checkpoints.appendingPathComponent(name)) }
    }

    func local(_ name: String) throws -> Data { try Data(contentsOf: checkpoints.appendingPathComponent(name)) }

    func stored(_ name: String) throws -> Data {
        try Data(contentsOf: bucketDirectory.appendingPathComponent("node-audit/\(AuditShipperTests.instance)/\(name)"))
    }

    func putInBucket(_ name: String, _ data: Data) throws {
        let target = bucketDirectory.appendingPathComponent("node-audit/\(AuditShipperTests.instance)/\(name)")
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: target)
    }

    func isRecorded(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("var/lib/audit-shipper/shipped/\(name)").path)
    }

    /// One run of the shipper; `failing` names a file whose upload fails ("*": every upload).
    func run(instance: String = AuditShipperTests.instance, failing: String? = nil)
        throws -> (status: Int32, stdout: String, stderr: String, calls: [[String]], puts: [Put]) {
        let bin = url.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let log = url.appendingPathComponent("calls")
        try? FileManager.default.removeItem(at: log)
        // aws s3api put-object --bucket B --key K --body F [--if-none-match '*']: S3's answers, by the bucket directory
        let aws = """
            #!/bin/sh
            { for argument in "$@"; do printf '%s\\0' "$argument"; done; printf '\\n\\0'; } >> '\(log.path)'
            while [ $# -gt 0 ]; do
                case "$1" in --bucket) bucket=$2 ;; --key) key=$2 ;; --body) body=$2 ;; esac
                shift
            done
            case "$SHIPPER_TEST_FAILING" in
                '*' | "${key##*/}") echo "An error occurred (ServiceUnavailable) when calling the PutObject operation: try again" >&2; exit 255 ;;
            esac
            target='\(bucketDirectory.path)'/"$key"
            if [ -e "$target" ]; then
                echo "An error occurred (PreconditionFailed) when calling the PutObject operation: At least one of the pre-conditions you specified did not hold" >&2
                exit 254
            fi
            mkdir -p "$(dirname "$target")" && cp "$body" "$target" && echo '{"ETag": "x"}'
            """
        try aws.write(to: bin.appendingPathComponent("aws"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent("aws").path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [FixtureFiles.repository.appendingPathComponent("Templates/node/audit-shipper.sh").path]
        process.environment = [
            "PATH": "\(bin.path):/usr/bin:/bin", "HOME": url.path, "DEPLOY_NODE_ROOT": root.path,
            "NODE_REGION": "eu-west-1", "AUDIT_BUCKET": Self.bucket, "AUDIT_CHECKPOINTS": "/var/log/inference/checkpoints",
            "STATE_DIRECTORY": "/var/lib/audit-shipper", "NODE_INSTANCE_ID": instance, "SHIPPER_TEST_FAILING": failing ?? "",
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "SECRET",
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let recorded = (try? Data(contentsOf: log)) ?? Data()
        let calls = String(decoding: recorded, as: UTF8.self).components(separatedBy: "\n\0").dropLast().map { call in
            call.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        let puts = calls.filter { $0.starts(with: ["s3api", "put-object"]) }.map { call in
            func value(_ flag: String) -> String? { call.firstIndex(of: flag).flatMap { call.indices.contains($0 + 1) ? call[$0 + 1] : nil } }
            return Put(bucket: value("--bucket") ?? "", key: value("--key") ?? "", conditional: value("--if-none-match") == "*")
        }
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self), calls, puts)
    }
}
