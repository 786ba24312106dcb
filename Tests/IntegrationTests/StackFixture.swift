import Foundation
import DeployTestSupport
import Stack

/// A copy of a shipped stack under a unique name in a scratch directory, so that tests sharing one endpoint
/// never see each other's resources.
struct StackFixture {
    let name: String
    let directory: URL
    let stackPath: String
    let statePath: String
    let region: String

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    init(prefix: String, account: String? = nil, from stack: String = "private-inference") throws {
        name = "\(prefix)-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("deploy-\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: directory.appendingPathComponent("Templates"))
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("Templates"), to: directory.appendingPathComponent("Templates"))
        var text = try String(contentsOf: Self.repository.appendingPathComponent("Stacks/\(stack).json5"), encoding: .utf8)
        let original = try StackFile.parse(text, file: stack)
        text = text.replacingOccurrences(of: "name: \"\(original.name)\"", with: "name: \"\(name)\"")
        if let account { text = text.replacingOccurrences(of: "account: \"\(original.account)\"", with: "account: \"\(account)\"") }
        stackPath = directory.appendingPathComponent("stack.json5").path
        statePath = directory.appendingPathComponent("state.json").path
        region = original.region
        try text.write(toFile: stackPath, atomically: true, encoding: .utf8)
        try ShippedStack.writeStandIns(into: directory.appendingPathComponent("artifacts"))
    }

    /// How many resources of each type the stack declares.
    /// What the census should count once the stack is applied: every resource but the account-wide settings,
    /// which carry no stack's name and outlive a destroy.
    func expectedCensus() throws -> [String: Int] {
        var expander = Expander(try StackConfiguration.load(stackPath: stackPath))
        let own = try expander.expand().resources.filter { !Self.accountSettings.contains($0.type) }
        return Dictionary(grouping: own, by: \.type).mapValues(\.count)
    }

    static let accountSettings: Set<String> = ["aws.s3.account_public_access_block", "aws.ec2.ebs_encryption_by_default"]

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
