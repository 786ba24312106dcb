import AWS
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
