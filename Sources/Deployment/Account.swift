import AWS
import Stack
import Synchronization

/// Who a run acts as: the client its handlers call through, and the identity that client's credentials belong to.
/// The CLI passes the AWS one; a test passes one that answers without a network.
public protocol Account: Sendable {
    /// The client for the stack's account and region; made when first needed, so that what never calls AWS
    /// (a plan without refresh) needs no credentials.
    func client() throws -> AWSClient
    /// The account and ARN the credentials belong to (STS GetCallerIdentity).
    func callerIdentity() async throws -> (account: String, arn: String)
}

/// The account reached through AWS: the client made once, on first use, by `connect`; the identity from STS.
public final class AWSAccount: Account {
    private let connect: @Sendable () throws -> AWSClient
    private let made = Mutex<AWSClient?>(nil)

    public init(connect: @escaping @Sendable () throws -> AWSClient) {
        self.connect = connect
    }

    /// The account of `stack`: a session resolved from `inputs` (profile, endpoint, environment) in the stack's
    /// region, assuming the stack's role when it names one. A region given that is not the stack's is refused.
    public convenience init(stack: StackFile, inputs: SessionInputs, observer: (@Sendable (RequestEvent) -> Void)?) {
        self.init {
            if let region = inputs.region, region != stack.region {
                throw Refused("--region \(region) differs from the stack's region \(stack.region)", hint: "See 'deploy --help'.")
            }
            var inputs = inputs
            inputs.region = stack.region
            let session = try SessionResolver(inputs: inputs, observer: observer).resolve()
            guard let role = stack.role else { return session.client }
            let assume = AssumeRoleCredentialProvider(roleARN: role.arn, sessionName: "deploy-\(stack.name)", externalID: role.externalID,
                                                      durationSeconds: nil, client: session.client, profileName: "stack \(stack.name)")
            return session.client.withCredentials(RefreshingCredentialProvider(source: assume))
        }
    }

    public func client() throws -> AWSClient {
        try made.withLock { made in
            if let made { return made }
            let client = try connect()
            made = client
            return client
        }
    }

    public func callerIdentity() async throws -> (account: String, arn: String) {
        let identity = try await STS(client: try client()).getCallerIdentity()
        return (identity.account, identity.arn)
    }
}
