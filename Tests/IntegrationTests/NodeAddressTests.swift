import Foundation
import Testing

/// `associate_public_ip_address` is sent and read back: a node in a subnet that maps public addresses on launch gets
/// none when its stack says false, re-plans clean, and a public address given to it outside deploy shows as drift.
/// Run under the policy `deploy permissions` prints for the stack.
@Suite("the node's public address against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct NodeAddressTests {
    static let network = """
        { phase: "network",
          resources: {
            vpc: { type: "aws.ec2.vpc", properties: { cidr_block: "10.60.0.0/16" } },
            subnet: {
              type: "aws.ec2.subnet",
              properties: { vpc_id: "${vpc.id}", cidr_block: "10.60.1.0/24", availability_zone: "us-east-1a", map_public_ip_on_launch: true },
            },
            group: { type: "aws.ec2.security_group", properties: { vpc_id: "${vpc.id}", name: "${stack.name}-node", description: "node" } },
          },
          outputs: { subnet_id: "${subnet.id}", group_id: "${group.id}" },
        }
        """

    static let inference = """
        { phase: "inference",
          resources: {
            node: {
              type: "aws.ec2.instance",
              properties: {
                ami: "ami-0b2c5a3e1c9d4f670", instance_type: "c7i.large", subnet_id: "${network.outputs.subnet_id}",
                security_group_ids: ["${network.outputs.group_id}"], associate_public_ip_address: false,
              },
            },
          },
        }
        """

    @Test("false gives no public address in a subnet that maps them; one added outside deploy is drift that replaces the node")
    func publicAddress() throws {
        let endpoint = try LocalEndpoint.require()
        let name = "address-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(name)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("Templates"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.network.write(to: directory.appendingPathComponent("Templates/network.json5"), atomically: true, encoding: .utf8)
        try Self.inference.write(to: directory.appendingPathComponent("Templates/inference.json5"), atomically: true, encoding: .utf8)
        for phase in ["keys", "storage"] {
            try "{ phase: '\(phase)' }".write(to: directory.appendingPathComponent("Templates/\(phase).json5"), atomically: true, encoding: .utf8)
        }
        let stack = directory.appendingPathComponent("stack.json5").path
        try "{ name: '\(name)', account: '\(endpoint.account)', region: '\(endpoint.region)' }".write(toFile: stack, atomically: true, encoding: .utf8)
        let state = directory.appendingPathComponent("state.json").path
        let permissions = try DeployProcess.run(["permissions", "--stack", stack, "--resources", "any"], environment: endpoint.keyEnvironment)
        #expect(permissions.status == 0, "\(permissions.stderr)")
        let environment = try LifecycleTests.deployer(policy: permissions.stdout, name: "\(name)-deployer", endpoint: endpoint)
        func deploy(_ arguments: [String]) throws -> DeployProcess.Result {
            try DeployProcess.run(arguments + ["--stack", stack, "--state", state], environment: environment)
        }

        let apply = try deploy(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stderr)")
        let described = try OutsideActor.run("""
            node = ec2.describe_instances(Filters=[{"Name": "tag:deploy:stack", "Values": [\(OutsideActor.pythonString(name))]}, \
            {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"][0]["Instances"][0]
            group = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [\(OutsideActor.pythonString(name + "-node"))]}])
            print(json.dumps({"id": node["InstanceId"], "public": node.get("PublicIpAddress"),
                              "groups": [g["GroupId"] for g in node["NetworkInterfaces"][0]["Groups"]],
                              "group": group["SecurityGroups"][0]["GroupId"]}))
            """, region: endpoint.region)
        let node = try #require(try JSONSerialization.jsonObject(with: Data(described.utf8)) as? [String: Any])
        #expect(node["public"] is NSNull, "the subnet maps public addresses, the stack says false: \(described)")
        #expect(node["groups"] as? [String] == [node["group"] as? String ?? "?"])
        let replan = try deploy(["plan", "--detailed-exitcode"])
        #expect(replan.status == 0, "a fresh apply re-plans clean:\n\(replan.stdout)\(replan.stderr)")

        let instance = try #require(node["id"] as? String)
        try OutsideActor.run("""
            allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
            ec2.associate_address(InstanceId=\(OutsideActor.pythonString(instance)), AllocationId=allocation)
            """, region: endpoint.region)
        let drifted = try deploy(["plan", "--output", "json"])
        let plan = try drifted.json()
        let drift = (plan["drift"] as? [[String: Any]] ?? []).first { $0["address"] as? String == "inference.node" }
        #expect((drift?["changes"] as? [[String: Any]])?.compactMap { $0["attribute"] as? String } == ["associate_public_ip_address"],
                "\(drifted.stdout)")
        let actions = (plan["phases"] as? [[String: Any]] ?? []).flatMap { $0["actions"] as? [[String: Any]] ?? [] }
        let action = actions.first { $0["address"] as? String == "inference.node" }
        #expect(action?["action"] as? String == "replace")
        #expect(action?["replacedBecause"] as? [String] == ["associate_public_ip_address"])

        let destroy = try deploy(["destroy", "--auto-approve"])
        #expect(destroy.status == 0, "\(destroy.stderr)")
    }
}
