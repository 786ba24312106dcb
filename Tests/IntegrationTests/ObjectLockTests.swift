import AWS
import DeployTestSupport
import Foundation
import Plan
import Provision
import Stack
import Testing

/// The audit bucket's S3 Object Lock through the bucket handler, against the local endpoint: created with it, or
/// turned on for a bucket that already holds objects (as AWS allows for a versioned bucket), read back whole, a
/// weaker default set outside deploy found and put back, and a locked version refused to its deleter.
@Suite("the audit bucket's Object Lock, against the local endpoint", .enabled(if: LocalEndpoint.isAvailable), .serialized)
struct ObjectLockTests {
    static let region = "eu-west-1"

    static func context() throws -> HandlerContext {
        let endpoint = try LocalEndpoint.require()
        let environment = ProcessInfo.processInfo.environment
        let admin = LocalEndpoint(url: endpoint.url, accessKeyID: environment["DEPLOY_TEST_OUTSIDE_ACCESS_KEY_ID"] ?? "",
                                  secretAccessKey: environment["DEPLOY_TEST_OUTSIDE_SECRET_ACCESS_KEY"] ?? "",
                                  region: region, account: endpoint.account, userARN: endpoint.userARN,
                                  roleARN: endpoint.roleARN, externalID: endpoint.externalID, caBundle: endpoint.caBundle)
        return HandlerContext(client: admin.client(), stack: StackIdentity(name: "ol", account: endpoint.account, region: region),
                              partition: "aws")
    }

    /// The default stack's audit bucket with `days` of Object Lock, under a fresh name, standing alone (encrypted
    /// with S3's key and logging nowhere, so that it needs no other resource of the stack).
    static func bucket(days: Int) throws -> DesiredResource {
        var configuration = try StackConfiguration.load(stackPath: ShippedStack.path())
        configuration.parameters[.storage]?["audit_object_lock_days"] = .int(days)
        var expander = Expander(configuration)
        var resource = try #require(try expander.expand().resources.first { $0.address.description == "storage.audit_bucket" })
        resource.properties["bucket"] = .string("ol-\(UUID().uuidString.prefix(8).lowercased())-audit")
        resource.properties["sse_algorithm"] = .string("AES256")
        resource.properties["kms_key_id"] = .null
        resource.properties["logging_target_bucket"] = .null
        resource.properties["policy"] = .null
        return resource
    }

    static func read(_ resource: DesiredResource, context: HandlerContext) async throws -> [String: Value] {
        let name = try #require(resource.properties["bucket"]?.stringValue)
        let recorded = ResourceState(address: resource.address, type: resource.type, id: name, attributes: resource.properties)
        let read = try await HandlerRegistry.standard.handler(for: resource.type).read([recorded], context: context)
        return try #require(read.live[resource.address] ?? nil, "\(name) is in the account")
    }

    static func outside(_ snippet: String, bucket: String) throws -> String {
        try OutsideActor.run("bucket = \(OutsideActor.pythonString(bucket))\n" + snippet, region: region)
    }

    @Test("created with Object Lock: read back as declared; a new version is locked and its delete refused")
    func createdLocked() async throws {
        let context = try Self.context()
        let handler = try HandlerRegistry.standard.handler(for: "aws.s3.bucket")
        let resource = try Self.bucket(days: 30)
        let name = try #require(resource.properties["bucket"]?.stringValue)
        _ = try await handler.create(resource, token: UUID().uuidString, context: context)
        let live = try await Self.read(resource, context: context)
        #expect(live["object_lock_days"] == .int(30) && live["object_lock_mode"] == .string("COMPLIANCE") && live["versioning"] == .bool(true))

        let answer = try Self.outside("""
            import hashlib, base64
            body = b'checkpoint'
            version = s3.put_object(Bucket=bucket, Key='node-audit/i-0123456789abcdef0/checkpoint-00000000000000000001.json', Body=body,
                                    ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode())['VersionId']
            head = s3.head_object(Bucket=bucket, Key='node-audit/i-0123456789abcdef0/checkpoint-00000000000000000001.json')
            try:
                s3.delete_object(Bucket=bucket, Key='node-audit/i-0123456789abcdef0/checkpoint-00000000000000000001.json', VersionId=version)
                deleted = 'deleted'
            except Exception as error:
                deleted = type(error).__name__ + ' ' + str(error)
            print(json.dumps({'mode': head.get('ObjectLockMode'), 'deleted': deleted}))
            """, bucket: name)
        let found = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: String]
        #expect(found?["mode"] == "COMPLIANCE", "\(answer)")
        #expect(found?["deleted"]?.contains("AccessDenied") == true, "a locked version cannot be deleted, even by an administrator: \(answer)")
    }

    @Test("turned on for a versioned bucket that holds objects; a weaker default set outside is read and put back")
    func turnedOnAndRepaired() async throws {
        let context = try Self.context()
        let handler = try HandlerRegistry.standard.handler(for: "aws.s3.bucket")
        let unlocked = try Self.bucket(days: 0)
        let name = try #require(unlocked.properties["bucket"]?.stringValue)
        _ = try await handler.create(unlocked, token: UUID().uuidString, context: context)
        #expect(try await Self.read(unlocked, context: context)["object_lock_days"] == .int(0), "no Object Lock configuration reads as 0 days")
        try Self.outside("s3.put_object(Bucket=bucket, Key='AWSLogs/earlier', Body=b'x')", bucket: name)

        var locked = unlocked
        locked.properties["object_lock_days"] = .int(30)
        let recorded = ResourceState(address: unlocked.address, type: unlocked.type, id: name, attributes: unlocked.properties)
        _ = try await handler.update(locked, recorded: recorded, changed: ["object_lock_days"], context: context)
        #expect(try await Self.read(locked, context: context)["object_lock_days"] == .int(30))

        try Self.outside("""
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={'ObjectLockEnabled': 'Enabled',
                'Rule': {'DefaultRetention': {'Mode': 'GOVERNANCE', 'Days': 1}}})
            """, bucket: name)
        let weakened = try await Self.read(locked, context: context)
        #expect(weakened["object_lock_days"] == .int(1) && weakened["object_lock_mode"] == .string("GOVERNANCE"), "\(weakened)")
        _ = try await handler.update(locked, recorded: recorded, changed: ["object_lock_days", "object_lock_mode"], context: context)
        let repaired = try await Self.read(locked, context: context)
        #expect(repaired["object_lock_days"] == .int(30) && repaired["object_lock_mode"] == .string("COMPLIANCE"), "\(repaired)")
    }
}
