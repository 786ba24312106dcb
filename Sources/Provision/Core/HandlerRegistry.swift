import AWS
import Plan
import Stack

/// The resource handlers a run uses, by type: `standard` holds the AWS ones; a test passes handlers of its own, so
/// that the executor and every gate before it run without an endpoint.
public struct HandlerRegistry: Sendable {
    /// Every AWS resource handler.
    public static let standard = HandlerRegistry([
        VPCHandler(), SubnetHandler(), RouteTableHandler(), RouteTableAssociationHandler(), SecurityGroupHandler(),
        DefaultSecurityGroupHandler(), VPCEndpointHandler(), FlowLogHandler(), LogGroupHandler(), KMSKeyHandler(),
        KMSAliasHandler(), IAMRoleHandler(), IAMRolePolicyHandler(), IAMInstanceProfileHandler(), S3BucketHandler(), S3ObjectHandler(),
        DynamoDBTableHandler(), CloudTrailHandler(), InstanceHandler(), DefaultNetworkACLHandler(), EBSEncryptionByDefaultHandler(),
        AccountPublicAccessBlockHandler(), LaunchTemplateHandler(), AutoScalingGroupHandler(), ScalingPolicyHandler(),
        LoadBalancerHandler(), TargetGroupHandler(), ListenerHandler(), CertificateHandler(),
    ])

    private let byType: [String: any ResourceHandler]

    /// The handlers given; a later one for the same type replaces an earlier one.
    public init(_ handlers: [any ResourceHandler]) {
        byType = Dictionary(handlers.map { ($0.type, $0) }) { _, later in later }
    }

    public func handler(for type: String) throws -> any ResourceHandler {
        guard let handler = byType[type] else { throw ProvisionError("no handler for resource type \(type)") }
        return handler
    }

    /// The types handled, sorted.
    public var types: [String] { byType.keys.sorted() }
}

/// Refresh through the handlers: one batched read per type.
public struct HandlerReader: ResourceReader {
    let context: HandlerContext
    let handlers: HandlerRegistry

    public init(context: HandlerContext, handlers: HandlerRegistry = .standard) {
        self.context = context
        self.handlers = handlers
    }

    public var types: [String] { handlers.types }

    public func read(type: String, resources: [ResourceState], stack: StackIdentity) async throws -> ReadResult {
        try await RequestLabel.$current.withValue("refresh \(type)") {
            try await handlers.handler(for: type).read(resources, context: context)
        }
    }
}
