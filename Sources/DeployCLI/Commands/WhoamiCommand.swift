import AWS
import Foundation

/// `deploy whoami`: the account, identity, region and endpoint that the resolved credentials reach.
struct WhoamiCommand: Command {
    static let name = "whoami"
    static let usesAWS = true
    static let outputFormats: [OutputFormat] = [.text, .json]
    static let abstract = "Show the account, identity, region and endpoint the credentials resolve to."
    static let discussion = """
        Calls STS GetCallerIdentity, which needs no permission. Credentials are resolved like the AWS CLI: \
        --profile, then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then AWS_PROFILE or the default profile; \
        a profile with role_arn assumes that role (with external_id when set).
        """

    struct Report: Encodable {
        var account: String
        var arn: String
        var userId: String
        var region: String
        var regionSource: String
        var endpoint: String
        var credentials: String
    }

    static func run(_ options: NoOptions, _ context: CommandContext) async throws -> Int32 {
        let session = try SessionResolver(inputs: context.options.sessionInputs(environment: context.environment),
                                          observer: DebugLog.observer(context)).resolve()
        let identity = try await STS(client: session.client).getCallerIdentity()
        let report = Report(account: identity.account, arn: identity.arn, userId: identity.userID, region: session.region,
                            regionSource: session.regionSource, endpoint: try session.client.endpoint(for: .sts).url,
                            credentials: session.credentialSource)
        switch context.options.output {
        case .json:
            context.console.out(try JSONText.encode(report))
        case .text:
            context.console.out(TextTable.keyValue([
                ("Account", report.account), ("ARN", report.arn), ("User ID", report.userId),
                ("Region", "\(report.region) (from \(report.regionSource))"), ("Endpoint", report.endpoint),
                ("Credentials", report.credentials),
            ]))
        }
        return ExitCode.success
    }
}
