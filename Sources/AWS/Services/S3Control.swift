import Foundation

/// S3 Control (REST-XML): the account's own S3 settings.
public struct S3Control: Sendable {
    public let client: AWSClient

    public init(client: AWSClient) {
        self.client = client
    }

    /// The four Block Public Access settings of an account.
    public struct PublicAccessBlock: Sendable, Equatable {
        public var blockPublicAcls: Bool
        public var ignorePublicAcls: Bool
        public var blockPublicPolicy: Bool
        public var restrictPublicBuckets: Bool

        public init(blockPublicAcls: Bool, ignorePublicAcls: Bool, blockPublicPolicy: Bool, restrictPublicBuckets: Bool) {
            self.blockPublicAcls = blockPublicAcls
            self.ignorePublicAcls = ignorePublicAcls
            self.blockPublicPolicy = blockPublicPolicy
            self.restrictPublicBuckets = restrictPublicBuckets
        }
    }

    private static let path = "/v20180820/configuration/publicAccessBlock"

    private func operation(_ name: String, _ method: String, account: String, body: Data = Data()) -> AWSOperation {
        AWSOperation(service: .s3control, name: name, method: method, path: Self.path, headers: ["x-amz-account-id": account],
                     body: body, hostPrefix: account)
    }

    /// The account's Block Public Access settings, or nil when it has none.
    public func publicAccessBlock(account: String) async throws -> PublicAccessBlock? {
        let response: HTTPResponse
        do {
            response = try await client.send(operation("GetPublicAccessBlock", "GET", account: account))
        } catch let error as AWSError where error.httpStatus == 404 {
            return nil
        }
        let root = try AWSClient.parseXML(response, service: .s3control, operation: "GetPublicAccessBlock")
        func flag(_ name: String) -> Bool { root.child(name)?.text == "true" }
        return PublicAccessBlock(blockPublicAcls: flag("BlockPublicAcls"), ignorePublicAcls: flag("IgnorePublicAcls"),
                                 blockPublicPolicy: flag("BlockPublicPolicy"), restrictPublicBuckets: flag("RestrictPublicBuckets"))
    }

    public func putPublicAccessBlock(_ settings: PublicAccessBlock, account: String) async throws {
        let body = """
            <PublicAccessBlockConfiguration xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/">\
            <BlockPublicAcls>\(settings.blockPublicAcls)</BlockPublicAcls><IgnorePublicAcls>\(settings.ignorePublicAcls)</IgnorePublicAcls>\
            <BlockPublicPolicy>\(settings.blockPublicPolicy)</BlockPublicPolicy>\
            <RestrictPublicBuckets>\(settings.restrictPublicBuckets)</RestrictPublicBuckets></PublicAccessBlockConfiguration>
            """
        _ = try await client.send(operation("PutPublicAccessBlock", "PUT", account: account, body: Data(body.utf8)))
    }
}
