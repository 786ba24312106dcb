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
                          "multipart_part_mib": "how the upload was cut, not a property of the object"],
        "aws.dynamodb.table": ["range_key_type": "exists only with a range key, which the default stack's table has none of"],
        "aws.ec2.instance": ["root_volume_size": "read as the attached volumes (volumes)", "root_volume_type": "read as volumes",
                             "root_volume_encrypted": "read as volumes", "root_volume_kms_key_id": "read as volumes",
                             "associate_public_ip_address": "read as the address the instance has (public_ip)"],
    ]

    static var types: [String] { ResourceTypes.names }

    @Test("every property of every type is read back from the account", arguments: types)
    func wholeRead(_ type: String) async throws {
        let deployed = try DriftRepairTests.deployed.get()
        let endpoint = try LocalEndpoint.require()
        let environment = ProcessInfo.processInfo.environment
        let admin = LocalEndpoint(url: endpoint.url, accessKeyID: environment["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"] ?? "",
                                  secretAccessKey: environment["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"] ?? "",
                                  region: deployed.fixture.region, account: endpoint.account, userARN: endpoint.userARN,
                                  roleARN: endpoint.roleARN, externalID: endpoint.externalID, caBundle: endpoint.caBundle)
        let state = try #require(try StateStore(path: deployed.fixture.statePath).load())
        let resources = state.resources.filter { $0.type == type }
        try #require(!resources.isEmpty, "the default stack declares a \(type)")
        let context = HandlerContext(client: admin.client(), stack: StackIdentity(name: state.stack, account: state.account, region: state.region),
                                     partition: "aws")
        let read = try await HandlerRegistry.standard.handler(for: type).read(resources, context: context)
        let schema = try #require(ResourceTypes.schema(for: type))
        for resource in resources {
            let live = try #require(read.live[resource.address], "\(resource.address) is in the account")
            let missing = Set(schema.attributes.keys).subtracting(live.keys).subtracting((Self.unreadable[type] ?? [:]).keys)
            #expect(missing.isEmpty, "\(resource.address): the read leaves out \(missing.sorted())")
        }
    }
}
