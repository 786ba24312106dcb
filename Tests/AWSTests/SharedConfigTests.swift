import Foundation
import Testing
@testable import AWS

@Suite("Shared config and credentials files")
struct SharedConfigTests {
    @Test("sections, comments, inline comments and nested blocks")
    func parsesFile() throws {
        let text = """
            # comment
            [default]
            region = eu-west-1 ; inline comment
            [profile  vendor ]
            role_arn = arn:aws:iam::123456789012:role/x
            s3 =
              addressing_style = path
            output=json
            """
        let file = try SharedConfigFile.parse(text, path: "config")
        #expect(file.sections["default"]?.settings["region"]?.value == "eu-west-1")
        #expect(file.sections["profile vendor"]?.settings["s3.addressing_style"] == .init(value: "path", line: 7))
        #expect(file.sections["profile vendor"]?.settings["output"]?.value == "json")
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var text: String
        var line: Int
        var fragment: String
        var testDescription: String { fragment }
    }

    @Test("malformed files are rejected with file and line", arguments: [
        Malformed(text: "region = x\n", line: 1, fragment: "before any [section]"),
        Malformed(text: "[default]\nregion\n", line: 2, fragment: "expected 'key = value'"),
        Malformed(text: "[default]\n\n[profile x\n", line: 3, fragment: "not closed"),
        Malformed(text: "[default]\n = value\n", line: 2, fragment: "has no name"),
    ])
    func malformed(_ example: Malformed) {
        let error = #expect(throws: ConfigFileError.self) { try SharedConfigFile.parse(example.text, path: "/x/config") }
        #expect(error?.line == example.line)
        #expect(error?.description.hasPrefix("/x/config:\(example.line): ") == true)
        #expect(error?.message.contains(example.fragment) == true)
    }
}

@Suite("Credential and region resolution")
struct SessionResolverTests {
    /// Writes config and credentials files and returns an environment pointing at them.
    func files(config: String, credentials: String = "") throws -> [String: String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try config.write(to: directory.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try credentials.write(to: directory.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        return ["HOME": directory.path, "AWS_CONFIG_FILE": directory.appendingPathComponent("config").path,
                "AWS_SHARED_CREDENTIALS_FILE": directory.appendingPathComponent("credentials").path]
    }

    func resolve(_ environment: [String: String], profile: String? = nil, region: String? = nil) throws -> Session {
        try SessionResolver(inputs: SessionInputs(profile: profile, region: region, environment: environment)).resolve()
    }

    @Test("environment keys win over the default profile; --profile wins over environment keys")
    func precedence() async throws {
        var env = try files(config: "[default]\nregion = eu-west-1\n",
                            credentials: "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n"
                                + "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s\n")
        env["AWS_ACCESS_KEY_ID"] = "AKIDENV"
        env["AWS_SECRET_ACCESS_KEY"] = "secret"
        let fromEnvironment = try resolve(env)
        #expect(fromEnvironment.credentialSource == "environment")
        #expect(try await fromEnvironment.client.credentialProvider.credentials().accessKeyID == "AKIDENV")
        #expect(fromEnvironment.region == "eu-west-1")
        let fromProfile = try resolve(env, profile: "other", region: "us-east-1")
        #expect(try await fromProfile.client.credentialProvider.credentials().accessKeyID == "AKIDOTHER")
    }

    @Test("region: flag, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile")
    func regionOrder() throws {
        var env = try files(config: "[default]\nregion = eu-west-1\n",
                            credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = s\n")
        #expect(try resolve(env).regionSource.hasSuffix("config:2"))
        env["AWS_DEFAULT_REGION"] = "eu-central-1"
        #expect(try resolve(env).region == "eu-central-1")
        env["AWS_REGION"] = "us-west-2"
        #expect(try resolve(env).region == "us-west-2")
        #expect(try resolve(env, region: "ap-south-1").region == "ap-south-1")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var config: String
        var credentials: String = ""
        var environment: [String: String] = [:]
        var profile: String?
        var fragment: String
        var testDescription: String { fragment }
    }

    @Test("unusable settings give one clear error", arguments: [
        Bad(config: "", environment: ["AWS_REGION": "us-east-1"],
            fragment: "no AWS credentials found; searched: environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profile 'default' in"),
        Bad(config: "[profile a]\nregion = us-east-1\n", profile: "b", fragment: "profile 'b' not found"),
        Bad(config: "", environment: ["AWS_PROFILE": "ghost", "AWS_REGION": "us-east-1"], fragment: "profile 'ghost' not found"),
        Bad(config: "[default]\naws_access_key_id = A\n", environment: ["AWS_REGION": "us-east-1"],
            fragment: "has aws_access_key_id but no aws_secret_access_key"),
        Bad(config: "[default]\n", environment: ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"], fragment: "no region"),
        Bad(config: "", environment: ["AWS_ACCESS_KEY_ID": "A", "AWS_REGION": "us-east-1"],
            fragment: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        Bad(config: "[profile a]\nrole_arn = r\nsource_profile = b\nregion = us-east-1\n[profile b]\nrole_arn = r\nsource_profile = a\n",
            profile: "a", fragment: "source_profile cycle a -> b -> a"),
        Bad(config: "[profile a]\nrole_arn = r\nregion = us-east-1\n", profile: "a", fragment: "needs source_profile or credential_source"),
        Bad(config: "[profile a]\nrole_arn = r\nsource_profile = b\nduration_seconds = 60\nregion = us-east-1\n[profile b]\naws_access_key_id = A\naws_secret_access_key = s\n",
            profile: "a", fragment: "duration_seconds must be between 900 and 43200"),
        Bad(config: "[profile a]\ncredential_process = /bin/true\nregion = us-east-1\n", profile: "a", fragment: "'credential_process' is not supported"),
        Bad(config: "[default]\nregion = us-east-1\nmax_attempts = zero\n", credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = s\n",
            fragment: "max_attempts must be a whole number"),
    ])
    func badSettings(_ bad: Bad) throws {
        var env = try files(config: bad.config, credentials: bad.credentials)
        env.merge(bad.environment) { $1 }
        let error = #expect(throws: AWSConfigurationError.self) { try resolve(env, profile: bad.profile) }
        #expect(error?.message.contains(bad.fragment) == true, "\(error?.message ?? "")")
    }

    @Test("a malformed config file names its line")
    func malformedFile() throws {
        let env = try files(config: "[default]\nregion = us-east-1\noops\n")
        let error = #expect(throws: ConfigFileError.self) { try resolve(env) }
        #expect(error?.line == 3)
    }

    @Test("temporary credentials are refreshed before they expire, and shared between callers")
    func refresh() async throws {
        let counter = FetchCounter()
        let provider = RefreshingCredentialProvider(source: counter)
        _ = try await provider.credentials()
        _ = try await provider.credentials()
        #expect(await counter.count == 1)  // valid for an hour: cached
        await counter.setLifetime(60)      // within the refresh margin
        let short = RefreshingCredentialProvider(source: counter)
        _ = try await short.credentials()
        _ = try await short.credentials()
        #expect(await counter.count == 3)
    }

    actor FetchCounter: CredentialProvider {
        var count = 0
        var lifetime: TimeInterval = 3600
        func setLifetime(_ seconds: TimeInterval) { lifetime = seconds }
        func credentials() async throws -> Credentials {
            count += 1
            return Credentials(accessKeyID: "ASIA\(count)", secretAccessKey: "s", sessionToken: "t",
                               expiration: Date().addingTimeInterval(lifetime))
        }
    }

    @Test("credentials never print their secret or token")
    func redaction() {
        let keys = Credentials(accessKeyID: "AKID", secretAccessKey: "SECRET-VALUE", sessionToken: "TOKEN-VALUE")
        for text in [keys.description, "\(keys)", String(reflecting: keys)] {
            #expect(!text.contains("SECRET-VALUE"))
            #expect(!text.contains("TOKEN-VALUE"))
        }
        #expect(Redaction.redactQuery("a=1&X-Amz-Signature=abc&X-Amz-Security-Token=t") == "a=1&X-Amz-Signature=<redacted>&X-Amz-Security-Token=<redacted>")
    }
}
