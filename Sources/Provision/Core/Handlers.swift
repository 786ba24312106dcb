import AWS
import Plan
import Stack

/// Every resource handler, by type.
public enum Handlers {
    public static let all: [any ResourceHandler] = [
        VPCHandler(), SubnetHandler(), RouteTableHandler(), RouteTableAssociationHandler(), SecurityGroupHandler(),
        DefaultSecurityGroupHandler(), VPCEndpointHandler(), FlowLogHandler(), LogGroupHandler(), KMSKeyHandler(),
        KMSAliasHandler(), IAMRoleHandler(), IAMRolePolicyHandler(), IAMInstanceProfileHandler(), S3BucketHandler(), S3ObjectHandler(),
        DynamoDBTableHandler(), CloudTrailHandler(), InstanceHandler(), DefaultNetworkACLHandler(), EBSEncryptionByDefaultHandler(),
        AccountPublicAccessBlockHandler(),
    ]

    private static let byType: [String: any ResourceHandler] = Dictionary(uniqueKeysWithValues: all.map { ($0.type, $0) })

    public static func handler(for type: String) throws -> any ResourceHandler {
        guard let handler = byType[type] else { throw ProvisionError("no handler for resource type \(type)") }
        return handler
    }

    public static var types: [String] { all.map(\.type).sorted() }
}

/// Refresh through the handlers: one batched read per type.
public struct HandlerReader: ResourceReader {
    let context: HandlerContext

    public init(context: HandlerContext) {
        self.context = context
    }

    public var types: [String] { Handlers.types }

    public func read(type: String, resources: [ResourceState], stack: StackIdentity) async throws -> ReadResult {
        try await RequestLabel.$current.withValue("refresh \(type)") {
            try await Handlers.handler(for: type).read(resources, context: context)
        }
    }
}
