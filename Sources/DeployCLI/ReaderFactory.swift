import AWS
import Plan
import Provision
import Stack

/// The readers a refresh uses, on a session for the stack's account and region.
enum ReaderFactory {
    static func readers(_ context: CommandContext, _ configuration: StackConfiguration) throws -> [any ResourceReader] {
        let client = try StackSession.client(context, configuration.stack)
        return [HandlerReader(context: ApplySupport.handlerContext(client, configuration.stack, emptyBuckets: false, force: false))]
    }
}

/// The AWS client for a stack: its region, and its role when the stack names one.
enum StackSession {
    static func client(_ context: CommandContext, _ stack: StackFile) throws -> AWSClient {
        if let region = context.options.region, region != stack.region {
            throw UsageError(message: "--region \(region) differs from the stack's region \(stack.region)", command: nil)
        }
        var inputs = context.options.sessionInputs(environment: context.environment)
        inputs.region = stack.region
        let session = try SessionResolver(inputs: inputs, observer: DebugLog.observer(context)).resolve()
        guard let role = stack.role else { return session.client }
        let assume = AssumeRoleCredentialProvider(roleARN: role.arn, sessionName: "deploy-\(stack.name)", externalID: role.externalID,
                                                  durationSeconds: nil, client: session.client, profileName: "stack \(stack.name)")
        return session.client.withCredentials(RefreshingCredentialProvider(source: assume))
    }
}
