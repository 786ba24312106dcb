import Foundation

/// Someone changing the account outside deploy, as in a console at 3am: boto3 run as the bootstrap's
/// outside-admin user against the local endpoint.
enum OutsideActor {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a Python snippet with `ec2`, `kms`, `s3` and `iam` clients in scope and `json` imported; returns its stdout.
    @discardableResult
    static func run(_ snippet: String, region: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let key = environment["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"],
              let secret = environment["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"],
              let endpoint = environment["AWS_ENDPOINT_URL"] else {
            throw Failure(description: "the outside-admin keys are not in the environment; start the endpoint with scripts/local-aws")
        }
        let prelude = """
            import json, boto3
            def client(name):
                return boto3.client(name, endpoint_url=\(pythonString(endpoint)), region_name=\(pythonString(region)),
                                    aws_access_key_id=\(pythonString(key)), aws_secret_access_key=\(pythonString(secret)))
            ec2, kms, s3, iam = client("ec2"), client("kms"), client("s3"), client("iam")

            """
        var clean = environment
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] { clean[name] = nil }
        let result = try DeployProcess.run(["python3", "-c", prelude + snippet], environment: clean,
                                           executable: URL(fileURLWithPath: "/usr/bin/env"))
        guard result.status == 0 else { throw Failure(description: "outside change failed: \(result.stderr)") }
        return result.stdout
    }

    private static func pythonString(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
