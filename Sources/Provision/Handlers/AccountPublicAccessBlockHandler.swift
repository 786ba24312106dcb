import AWS
import Plan
import Stack

/// `aws.s3.account_public_access_block`: S3 Block Public Access for the whole account, which no bucket setting can
/// loosen. It is the account's, not the stack's: destroy forgets it and leaves it as it is.
struct AccountPublicAccessBlockHandler: ResourceHandler {
    let type = "aws.s3.account_public_access_block"
    let actions = HandlerActions(create: ["s3:PutAccountPublicAccessBlock"], read: ["s3:GetAccountPublicAccessBlock"],
                                 update: ["s3:PutAccountPublicAccessBlock"], delete: [])

    static let settings = ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        try await put(resource, context: context)
        try await context.recordID(context.stack.account)
        return ["id": .string(context.stack.account)]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        try await put(resource, context: context)
        return ["id": .string(context.stack.account)]
    }

    private func put(_ resource: DesiredResource, context: HandlerContext) async throws {
        let settings = S3Control.PublicAccessBlock(blockPublicAcls: try resource.requireBool("block_public_acls"),
                                                   ignorePublicAcls: try resource.requireBool("ignore_public_acls"),
                                                   blockPublicPolicy: try resource.requireBool("block_public_policy"),
                                                   restrictPublicBuckets: try resource.requireBool("restrict_public_buckets"))
        try await S3Control(client: context.client).putPublicAccessBlock(settings, account: context.stack.account)
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {}

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        try await create(resource, token: token, context: context)
    }

    /// An account without the setting reads as all four off: nothing is blocked.
    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        guard !resources.isEmpty else { return ReadResult(live: [:], apiCalls: 0) }
        let block = try await S3Control(client: context.client).publicAccessBlock(account: context.stack.account)
        let values: [String: Value] = [
            "block_public_acls": .bool(block?.blockPublicAcls ?? false), "ignore_public_acls": .bool(block?.ignorePublicAcls ?? false),
            "block_public_policy": .bool(block?.blockPublicPolicy ?? false), "restrict_public_buckets": .bool(block?.restrictPublicBuckets ?? false),
        ]
        return ReadResult(live: Dictionary(uniqueKeysWithValues: resources.map { ($0.address, values) }), apiCalls: 1)
    }
}
