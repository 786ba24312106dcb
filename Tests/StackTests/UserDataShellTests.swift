import DeployTestSupport
import Foundation
import Testing
@testable import Stack

/// The node's user data and its installer (Templates/node/boot.sh) get stack values; whatever they hold, the shell
/// must read each as a single literal word. Each case renders the real templates (with the object keys' patterns
/// lifted where a case says so, so that the quoting alone stands between the value and the shell), runs the user data
/// under `sh` in a scratch root with `aws` serving the planned objects from a directory and `useradd`, `chown` and
/// `systemctl` replaced by recorders, and checks what ran, what was installed and what was refused.
@Suite("node boot script")
struct UserDataShellTests {
    static let hostileKeys = [
        "$(touch MARK)", "`touch MARK`", "x; touch MARK", "x\ntouch MARK", "x' ; touch MARK ; '", "x\" ; touch MARK ; \"",
        "x && touch MARK", "x | touch MARK", "${IFS}touch${IFS}MARK", "a b *", "-rf", "'", "\\'$(touch MARK)\\'",
        "x\r\ntouch MARK #", "$((1+1))", "~root", "!! touch MARK",
    ]
    static let bucket = "s3://private-inference-123456789012-artifacts/"

    @Test("a hostile object key reaches aws as one word and runs nothing", arguments: hostileKeys)
    func hostileKey(_ template: String) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let marker = sandbox.url.appendingPathComponent("pwned").path
        let key = template.replacingOccurrences(of: "MARK", with: marker)
        guard !key.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            // a control character never reaches the script: every stack string that holds one is refused
            #expect(throws: StackError.self) { _ = try sandbox.render(["server_key": key]) }
            return
        }
        let run = try sandbox.boot(try sandbox.render(["server_key": key]))

        #expect(!FileManager.default.fileExists(atPath: marker), "the value ran as a command")
        #expect(run.status == 0, "the object stored under that key is fetched, checked and installed: \(run.stderr)")
        #expect(run.calls.contains { $0.first == "aws" && $0.last == sandbox.root.path + "/var/lib/inference-staging/inference-server"
                && $0.dropLast().last == Self.bucket + key }, "aws received the key verbatim: \(run.calls)")
    }

    @Test("the default stack's node fetches and checks all eleven files, installs them and starts the service and the audit shipper")
    func defaultBoot() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let run = try sandbox.boot(try sandbox.render([:]))
        #expect(run.status == 0, "\(run.stderr)")
        let fetched = run.calls.filter { $0.first == "aws" }.compactMap { $0.dropLast().last }
        #expect(fetched == ["node/boot.sh", "bin/inference-server", "models/model.gguf", "config/keys.json", "config/guardrails.json5",
                            "node/inference-server.service",
                            "node/audit-shipper.sh", "node/audit-shipper.service", "node/audit-shipper.path", "node/audit-shipper.timer",
                            "node/audit-shipper-final.service"]
            .map { Self.bucket + $0 })
        let installed = ["usr/local/bin/inference-server": 0o755, "var/lib/inference/model.gguf": 0o640, "etc/inference/keys.json": 0o640,
                         "etc/inference/guardrails.json5": 0o640,
                         "etc/systemd/system/inference-server.service": 0o644, "etc/inference/server.env": 0o644,
                         "usr/local/bin/audit-shipper": 0o755, "etc/systemd/system/audit-shipper.service": 0o644,
                         "etc/systemd/system/audit-shipper.path": 0o644, "etc/systemd/system/audit-shipper.timer": 0o644,
                         "etc/systemd/system/audit-shipper-final.service": 0o644, "etc/inference/audit-shipper.env": 0o644]
        for (path, mode) in installed {
            let attributes = try FileManager.default.attributesOfItem(atPath: sandbox.root.appendingPathComponent(path).path)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
        }
        #expect(try String(contentsOf: sandbox.root.appendingPathComponent("etc/inference/server.env"), encoding: .utf8) == "PORT=8080\nDRAIN_SECONDS=30\nFLEET_ARGUMENTS=\n")
        #expect(try String(contentsOf: sandbox.root.appendingPathComponent("etc/inference/audit-shipper.env"), encoding: .utf8)
            == "NODE_REGION=eu-west-1\nAUDIT_BUCKET=private-inference-123456789012-audit\nAUDIT_CHECKPOINTS=/var/log/inference/checkpoints\n")
        #expect(run.calls.contains { $0.first == "useradd" && $0.last == "inference" })
        #expect(run.calls.filter { $0.first == "systemctl" } == [["systemctl", "daemon-reload"], ["systemctl", "enable", "--now",
            "audit-shipper-final.service", "audit-shipper.path", "audit-shipper.timer", "inference-server.service"]])
        // the shipper reads the checkpoints from where the server's unit writes them, and its key stays the server's
        let unit = try String(contentsOf: sandbox.root.appendingPathComponent("etc/systemd/system/inference-server.service"), encoding: .utf8)
        #expect(unit.contains("--audit-key /var/lib/inference-audit/audit-key.pem --audit-checkpoints /var/log/inference/checkpoints "))
        #expect(unit.contains("--policy /etc/inference/guardrails.json5 "))
        #expect(unit.contains("\nStateDirectory=inference-audit\nStateDirectoryMode=0700\n") && unit.contains("\nUser=inference\n"))
        let path = try String(contentsOf: sandbox.root.appendingPathComponent("etc/systemd/system/audit-shipper.path"), encoding: .utf8)
        #expect(path.contains("\nPathChanged=/var/log/inference/checkpoints\n"))
    }

    @Test("a fleet's node also serves TLS with a key of its own, drains for the fleet's time, and publishes its load")
    func fleetBoot() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let run = try sandbox.boot(try sandbox.render([:], stack: "fleet", node: "inference.node_template[0]"))
        #expect(run.status == 0, "\(run.stderr)")
        let fetched = run.calls.filter { $0.first == "aws" }.compactMap { $0.dropLast().last?.split(separator: "/").last.map(String.init) }
        #expect(fetched.suffix(3) == ["metrics-publisher.sh", "metrics-publisher.service", "metrics-publisher.timer"])
        let file = { (path: String) in try String(contentsOf: sandbox.root.appendingPathComponent(path), encoding: .utf8) }
        #expect(try file("etc/inference/server.env") == "PORT=8080\nDRAIN_SECONDS=300\n"
            + "FLEET_ARGUMENTS=--tls-cert /var/lib/inference-tls/node.pem --tls-key /var/lib/inference-tls/node.key --max-connections-per-client 64\n")
        #expect(try file("var/lib/inference-tls/node.key").contains("PRIVATE KEY"), "the node made its own key")
        #expect(try file("etc/inference/metrics-publisher.env") == "NODE_REGION=eu-west-1\nMETRICS_NAMESPACE=Deploy/Inference\n"
            + "ASG_NAME=private-inference-fleet-nodes\nNODE_METRICS_URL=https://127.0.0.1:8080/metrics\n")
        for (path, mode) in ["etc/inference/metrics-publisher.key": 0o600, "usr/local/bin/metrics-publisher": 0o755,
                             "var/lib/inference-tls/node.key": 0o640] {
            let attributes = try FileManager.default.attributesOfItem(atPath: sandbox.root.appendingPathComponent(path).path)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(path)")
        }
        #expect(run.calls.filter { $0.first == "systemctl" }.last?.last == "metrics-publisher.timer")
    }

    @Test("a file whose digest is not the planned one stops the boot, names the file, and installs nothing",
          arguments: ["models/model.gguf", "bin/inference-server", "node/inference-server.service", "node/boot.sh", "node/audit-shipper.sh",
                      "node/audit-shipper-final.service"])
    func mismatch(_ key: String) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let script = try sandbox.render([:])
        try sandbox.tamper(key)
        let run = try sandbox.boot(script)
        #expect(run.status != 0)
        let name = (key as NSString).lastPathComponent
        #expect(run.stderr.contains("refusing to start") && run.stderr.contains(name), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("usr/local/bin/inference-server").path))
        #expect(!run.calls.contains { $0.first == "systemctl" })
    }

    @Test("the key parameters refuse shell and path metacharacters", arguments: ["x;y", "$(id)", "../etc/passwd", "-rf", "a b", "a\nb", "a`b`"])
    func patternRefuses(_ key: String) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        #expect(throws: StackError.self) { _ = try sandbox.render(["model_key": key], keepPatterns: true) }
    }

    @Test("shellquote gives back exactly its input through sh", arguments: hostileKeys + ["", "plain", "é\u{301}\u{200B}", "\t\\"])
    func roundTrip(_ text: String) throws {
        let quoted = try #require(ShellQuoting.quoted(text))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s " + quoted]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(String(decoding: data, as: UTF8.self) == text)
        #expect(ShellQuoting.quoted("a\0b") == nil)
    }

}

/// A scratch directory holding a copy of the templates, a stack, its stand-in artifacts, the objects an `aws` stand-in
/// serves by key, and the root the node installs into.
struct Sandbox {
    let url: URL
    var root: URL { url.appendingPathComponent("root") }
    private var objects: URL { url.appendingPathComponent("objects") }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-node-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// The user data of the default stack's first node, with `values` set on the storage phase (and, unless
    /// `keepPatterns`, the object keys' patterns lifted); the planned objects go where the `aws` stand-in finds them.
    func render(_ values: [String: String], keepPatterns: Bool = false, stack: String = "private-inference",
                node address: String = "inference.node[0]") throws -> String {
        let templates = url.appendingPathComponent("templates")
        try? FileManager.default.removeItem(at: templates)
        try FileManager.default.copyItem(at: FixtureFiles.repository.appendingPathComponent("Templates"), to: templates)
        if !keepPatterns {
            let path = templates.appendingPathComponent("storage.json5")
            let text = try String(contentsOf: path, encoding: .utf8)
            let lifted = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                guard line.contains("_key: {"), let start = line.range(of: ", pattern: \""),
                      let end = line.range(of: "\" }", options: .backwards) else { return String(line) }
                return String(line[..<start.lowerBound]) + " }" + String(line[end.upperBound...])
            }
            try lifted.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
        }
        let stackText = try String(contentsOf: FixtureFiles.repository.appendingPathComponent("Stacks/\(stack).json5"), encoding: .utf8)
        let extra = try values.sorted { $0.key < $1.key }.map { name, value in
            "\(name): " + String(decoding: try JSONEncoder().encode(value), as: UTF8.self) + ","
        }.joined(separator: " ")
        let stackPath = url.appendingPathComponent("stack.json5")
        try stackText.replacingOccurrences(of: "audit_retention_days: 2557,", with: "audit_retention_days: 2557, " + extra)
            .write(to: stackPath, atomically: true, encoding: .utf8)
        try ShippedStack.writeStandIns(into: url.appendingPathComponent("artifacts"))
        var expander = Expander(try StackConfiguration.load(stackPath: stackPath.path, templatesDirectory: templates.path))
        let resources = try expander.expand().resources
        for object in resources where object.type == "aws.s3.object" {
            guard let key = object.properties["key"]?.stringValue, let source = object.artifact?.path,
                  !key.contains(".."), !key.hasPrefix("/") else { continue }
            let target = objects.appendingPathComponent(key)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(atPath: source, toPath: target.path)
        }
        let node = try #require(resources.first { $0.address.description == address })
        return try #require(node.properties["user_data"]?.stringValue)
    }

    /// Changes one byte of the object under `key`, as someone with write access to the bucket might.
    func tamper(_ key: String) throws {
        let path = objects.appendingPathComponent(key)
        var data = try Data(contentsOf: path)
        data[0] ^= 0x01
        try data.write(to: path)
    }

    /// Runs `script` as the node would, rooted in `root`; returns its exit status, its standard error and the
    /// stand-ins' calls, one argument list each (the command first).
    func boot(_ script: String) throws -> (status: Int32, stderr: String, calls: [[String]]) {
        let bin = url.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let log = url.appendingPathComponent("calls")
        try? FileManager.default.removeItem(at: log)
        func record(_ name: String) -> String {
            "#!/bin/sh\n{ printf '%s\\0' \(name); for argument in \"$@\"; do printf '%s\\0' \"$argument\"; done; printf '\\n\\0'; } >> '\(log.path)'\n"
        }
        // aws s3 cp ... s3://bucket/KEY DEST: copies the object under KEY, when there is one
        let aws = record("aws") + "for last in \"$@\"; do source=$destination; destination=$last; done\n"
            + "key=${source#s3://*/}\n[ -f '\(objects.path)'/\"$key\" ] && cp '\(objects.path)'/\"$key\" \"$destination\"\n"
        try aws.write(to: bin.appendingPathComponent("aws"), atomically: true, encoding: .utf8)
        for name in ["useradd", "chown", "systemctl"] {
            try record(name).write(to: bin.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        for name in ["aws", "useradd", "chown", "systemctl"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin.appendingPathComponent(name).path)
        }
        let scriptPath = url.appendingPathComponent("user-data.sh")
        try script.write(to: scriptPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [scriptPath.path]
        process.currentDirectoryURL = url
        process.environment = ["PATH": "\(bin.path):/usr/bin:/bin:/usr/sbin:/sbin", "HOME": url.path, "DEPLOY_NODE_ROOT": root.path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let recorded = (try? Data(contentsOf: log)) ?? Data()
        let calls = String(decoding: recorded, as: UTF8.self).components(separatedBy: "\n\0").dropLast().map { call in
            call.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        return (process.terminationStatus, String(decoding: stderr, as: UTF8.self), calls)
    }
}
