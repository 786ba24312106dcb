import Foundation
import Testing

/// `deploy whoami` as a user runs it: the built binary, against the local endpoint, in each credential mode.
@Suite("deploy whoami against the local endpoint", .enabled(if: LocalEndpoint.isAvailable))
struct WhoamiTests {
    @Test("with environment keys")
    func environmentKeys() throws {
        let endpoint = try LocalEndpoint.require()
        let result = try DeployProcess.run(["whoami", "--output", "json"], environment: endpoint.keyEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        #expect(report["account"] as? String == endpoint.account)
        #expect(report["arn"] as? String == endpoint.userARN)
        #expect(report["credentials"] as? String == "environment")
        #expect(report["endpoint"] as? String == endpoint.url)
    }

    @Test("with a profile from the shared files, which wins over environment keys when named")
    func profile() throws {
        let endpoint = try LocalEndpoint.require()
        let files = try ProfileFiles(endpoint: endpoint)
        var environment = files.environment
        environment["AWS_ACCESS_KEY_ID"] = "AKIAIGNOREDIGNORED00"
        environment["AWS_SECRET_ACCESS_KEY"] = "ignored"
        let result = try DeployProcess.run(["whoami", "--profile", "operator", "--output", "json"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        #expect(report["arn"] as? String == endpoint.userARN)
        #expect(report["credentials"] as? String == "profile operator")
        #expect((report["regionSource"] as? String)?.hasSuffix("config:2") == true)
    }

    @Test("with an assumed role carrying an external id")
    func assumedRole() throws {
        let endpoint = try LocalEndpoint.require()
        let files = try ProfileFiles(endpoint: endpoint)
        let result = try DeployProcess.run(["whoami", "--profile", "vendor", "--output", "json"], environment: files.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        let roleName = endpoint.roleARN.split(separator: "/").last.map(String.init) ?? ""
        #expect(report["arn"] as? String == "arn:aws:sts::\(endpoint.account):assumed-role/\(roleName)/deploy-test")
        #expect((report["credentials"] as? String)?.contains(endpoint.roleARN) == true)
    }

    @Test("a wrong external id is refused by the role's trust policy")
    func wrongExternalID() throws {
        let endpoint = try LocalEndpoint.require()
        let files = try ProfileFiles(endpoint: endpoint)
        let result = try DeployProcess.run(["whoami", "--profile", "vendor-wrong-external-id"], environment: files.environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("sts AssumeRole failed: AccessDenied"))
    }

    @Test("--debug logs every request without any secret")
    func debugHasNoSecrets() throws {
        let endpoint = try LocalEndpoint.require()
        let files = try ProfileFiles(endpoint: endpoint)
        let result = try DeployProcess.run(["whoami", "--profile", "vendor", "--debug"], environment: files.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("debug: sts AssumeRole attempt 1 POST"))
        #expect(result.stderr.contains("debug: sts GetCallerIdentity attempt 1 POST"))
        for output in [result.stdout, result.stderr] {
            #expect(!output.contains(endpoint.secretAccessKey))
            #expect(!output.contains("Signature="))
            #expect(!output.contains("SessionToken"))
        }
    }

    @Test("a wrong secret is a clear error with the AWS code and request id")
    func wrongSecret() throws {
        let endpoint = try LocalEndpoint.require()
        var environment = endpoint.keyEnvironment
        environment["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let result = try DeployProcess.run(["whoami"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr.contains("SignatureDoesNotMatch"))
        #expect(result.stderr.contains("request id"))
        #expect(!result.stderr.contains("not-the-secret"))
    }
}

/// A config and credentials file pair in a temporary directory.
struct ProfileFiles {
    let directory: URL
    let environment: [String: String]

    init(endpoint: LocalEndpoint) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            [profile operator]
            region = \(endpoint.region)
            [profile vendor]
            role_arn = \(endpoint.roleARN)
            source_profile = operator
            external_id = \(endpoint.externalID)
            role_session_name = deploy-test
            region = \(endpoint.region)
            [profile vendor-wrong-external-id]
            role_arn = \(endpoint.roleARN)
            source_profile = operator
            external_id = not-\(endpoint.externalID)
            region = \(endpoint.region)
            """
        let credentials = """
            # the operator's long-lived keys
            [operator]
            aws_access_key_id = \(endpoint.accessKeyID)
            aws_secret_access_key = \(endpoint.secretAccessKey)
            """
        try config.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try credentials.write(to: directory.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        environment = [
            "HOME": directory.path,
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "AWS_CONFIG_FILE": directory.appendingPathComponent("config").path,
            "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("credentials").path,
            "AWS_ENDPOINT_URL": endpoint.url,
            "AWS_CA_BUNDLE": endpoint.caBundle ?? "",
        ]
    }
}

extension LocalEndpoint {
    /// A minimal environment with the operator's keys, nothing inherited that could interfere.
    var keyEnvironment: [String: String] {
        ["HOME": FileManager.default.temporaryDirectory.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin",
         "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_REGION": region,
         "AWS_ENDPOINT_URL": url, "AWS_CA_BUNDLE": caBundle ?? ""]
    }
}
