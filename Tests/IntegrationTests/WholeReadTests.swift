import AWS
import Foundation
import Plan
import Provision
import Stack
import Testing

/// Refresh reads each resource whole: for every resource type of the default stack, applied to the local endpoint,
/// the handler's read returns every property the type's schema has, declared by the stack or not, save those AWS
/// never returns (each listed here with the reason), so that no property can change outside deploy unseen.
@Suite("refresh reads whole resources", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct WholeReadTests {
    /// Properties no read can return, by type, and why.
    static let unreadable: [String: [String: String]] = [
        "aws.kms.key": ["deletion_window_days": "AWS keeps the pending window only once a deletion is scheduled (read as key_state)"],
        "aws.s3.object": ["source": "a path on the deploying machine", "template_file": "a path on the deploying machine",
                          "check": "a check of the local file at plan time",
                          "multipart_part_mib": "how the upload was cut, not a property of the object"],
        "aws.dynamodb.table": ["range_key_type": "exists only with a range key, which the default stack's table has none of"],
        "aws.ec2.instance": ["root_volume_size": "read as the attached volumes (volumes)", "root_volume_type": "read as volumes",
                             "root_volume_encrypted": "read as volumes", "root_volume_kms_key_id": "read as volumes",
                             "associate_public_ip_address": "read as the address the instance has (public_ip)"],
        "aws.acm.certificate": ["source": "a path on the deploying machine"],
        "aws.autoscaling.group": ["desired_capacity": "what scaling sets between applies is the group's own, not drift",
                                  "refresh_min_healthy_percentage": "a preference of the next instance refresh, kept by no API",
                                  "refresh_instance_warmup": "a preference of the next instance refresh, kept by no API"],
    ]

    /// The types the default stack declares; the fleet's own are read whole by FleetTests, on the fleet it applies.
    static var types: [String] { ResourceTypes.names.filter { !fleetTypes.contains($0) } }

    static let fleetTypes: Set = ["aws.ec2.launch_template", "aws.autoscaling.group", "aws.autoscaling.policy", "aws.elbv2.load_balancer",
                                  "aws.elbv2.target_group", "aws.elbv2.listener", "aws.acm.certificate"]

    @Test("every property of every type is read back from the account", arguments: types)
    func wholeRead(_ type: String) async throws {
        let deployed = try DriftRepairTests.deployed.get()
        let missing = try await Self.unread(type, statePath: deployed.fixture.statePath, region: deployed.fixture.region)
        #expect(missing.isEmpty, "\(missing)")
    }

    /// Each recorded resource of `type` whose read, as the outside administrator, leaves out a property its schema has
    /// (save those listed in `unreadable`), with what it leaves out.
    static func unread(_ type: String, statePath: String, region: String) async throws -> [String: [String]] {
        let endpoint = try LocalEndpoint.require()
        let environment = ProcessInfo.processInfo.environment
        let admin = LocalEndpoint(url: endpoint.url, accessKeyID: environment["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"] ?? "",
                                  secretAccessKey: environment["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"] ?? "",
                                  region: region, account: endpoint.account, userARN: endpoint.userARN,
                                  roleARN: endpoint.roleARN, externalID: endpoint.externalID, caBundle: endpoint.caBundle)
        let state = try #require(try StateStore(path: statePath).load())
        let resources = state.resources.filter { $0.type == type }
        try #require(!resources.isEmpty, "the stack declares a \(type)")
        let context = HandlerContext(client: admin.client(), stack: StackIdentity(name: state.stack, account: state.account, region: state.region),
                                     partition: "aws")
        let read = try await HandlerRegistry.standard.handler(for: type).read(resources, context: context)
        let schema = try #require(ResourceTypes.schema(for: type))
        var missing: [String: [String]] = [:]
        for resource in resources {
            let live = try #require(read.live[resource.address], "\(resource.address) is in the account")
            let left = Set(schema.attributes.keys).subtracting(live.keys).subtracting((unreadable[type] ?? [:]).keys)
            if !left.isEmpty { missing[resource.address.description] = left.sorted() }
        }
        return missing
    }
}
