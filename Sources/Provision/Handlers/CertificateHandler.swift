import AWS
import Foundation
import Hashing
import Plan
import Stack

/// `aws.acm.certificate`: a certificate imported into ACM for the load balancer's TLS listener, from one PEM file
/// holding the certificate, then its chain, and its private key. The key goes from that file to ACM and nowhere
/// else: never into the state, a plan or a log; the state keeps the file's digest, so a renewed file shows as a
/// change and is imported again under the same ARN (the listener keeps it).
struct CertificateHandler: ResourceHandler {
    let type = "aws.acm.certificate"
    let actions = HandlerActions(create: ["acm:ImportCertificate", "acm:AddTagsToCertificate", "acm:DescribeCertificate"],
                                 read: ["acm:DescribeCertificate", "acm:GetCertificate", "acm:ListTagsForCertificate"],
                                 update: ["acm:ImportCertificate", "acm:AddTagsToCertificate", "acm:RemoveTagsFromCertificate",
                                          "acm:DescribeCertificate"],
                                 delete: ["acm:DeleteCertificate"])

    private func acm(_ context: HandlerContext) -> JSONService { JSONService(client: context.client, service: .acm) }

    private func parts(_ resource: DesiredResource) throws -> PEMBundle {
        guard let artifact = resource.artifact else { throw ProvisionError("\(resource.address): no local certificate file") }
        do {
            let data = try artifact.contents(atMost: PEMBundle.maximumSize)
            // the file may have changed since the plan hashed it: only the reviewed bytes are imported
            guard SHA256.hex(data) == artifact.sha256 else {
                throw ProvisionError("\(artifact.path) changed after the plan was made (its SHA-256 is no longer \(artifact.sha256)); plan again")
            }
            return try PEMBundle(data)
        } catch let error as EvaluationFailure {
            throw ProvisionError("\(artifact.path) \(error.message)")
        }
    }

    private func importing(_ resource: DesiredResource, arn: String?, context: HandlerContext) async throws -> String {
        let parts = try parts(resource)
        var input: [String: JSONValue] = ["Certificate": .string(Data(parts.certificate.utf8).base64EncodedString()),
                                          "PrivateKey": .string(Data(parts.privateKey.utf8).base64EncodedString())]
        if !parts.chain.isEmpty { input["CertificateChain"] = .string(Data(parts.chain.utf8).base64EncodedString()) }
        if let arn { input["CertificateArn"] = .string(arn) } else { input["Tags"] = JSONService.tagList(resource.tags) }
        let answer = try await acm(context).call("ImportCertificate", input)
        guard let imported = answer["CertificateArn"]?.stringValue else { throw ProvisionError("ImportCertificate returned no CertificateArn") }
        return imported
    }

    func create(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value] {
        let arn = try await importing(resource, arn: nil, context: context)
        try await context.recordID(arn)
        return try await computed(arn, context: context) ?? ["id": .string(arn), "arn": .string(arn)]
    }

    private func describe(_ arn: String, context: HandlerContext) async throws -> JSONValue? {
        do {
            return try await acm(context).call("DescribeCertificate", ["CertificateArn": .string(arn)])["Certificate"]
        } catch let error as AWSError where error.isNotFound {
            return nil
        }
    }

    private func computed(_ arn: String, context: HandlerContext) async throws -> [String: Value]? {
        guard let certificate = try await describe(arn, context: context) else { return nil }
        return Self.attributes(certificate, arn: arn)
    }

    static func attributes(_ certificate: JSONValue, arn: String) -> [String: Value] {
        let notAfter = certificate["NotAfter"].flatMap { value -> Value? in
            if case .number(let seconds) = value { return .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))) }
            return value.stringValue.map(Value.string)
        }
        return ["id": .string(arn), "arn": .string(arn), "domain_name": certificate["DomainName"]?.stringValue.map(Value.string) ?? .null,
                "not_after": notAfter ?? .null]
    }

    func update(_ resource: DesiredResource, recorded: ResourceState, changed: Set<String>,
                context: HandlerContext) async throws -> [String: Value] {
        let arn = try recorded.requireID()
        let reimported = !changed.subtracting(["tags"]).isEmpty
        if reimported { _ = try await importing(resource, arn: arn, context: context) }
        // AWS keeps a certificate's tags when it is imported again; tagging again costs nothing where a store does not
        if changed.contains("tags") || reimported {
            let removed = resource.removedTagKeys(since: recorded)
            if !removed.isEmpty {
                try await acm(context).call("RemoveTagsFromCertificate", ["CertificateArn": .string(arn),
                                                                          "Tags": .array(removed.map { .object(["Key": .string($0)]) })])
            }
            try await acm(context).call("AddTagsToCertificate", ["CertificateArn": .string(arn), "Tags": JSONService.tagList(resource.tags)])
        }
        return try await computed(arn, context: context) ?? ["id": .string(arn), "arn": .string(arn)]
    }

    func delete(_ recorded: ResourceState, context: HandlerContext) async throws {
        let arn = try recorded.requireID()
        // the listener that used it may take a moment to let go
        try await waitUntil("certificate \(arn) to be deletable", timeout: 300, interval: 5) {
            do {
                try await acm(context).call("DeleteCertificate", ["CertificateArn": .string(arn)])
                return true
            } catch let error as AWSError where error.isNotFound {
                return true
            } catch let error as AWSError where error.code == "ResourceInUseException" {
                return false
            }
        }
    }

    func find(_ resource: DesiredResource, token: String, context: HandlerContext) async throws -> [String: Value]? {
        // an import has no idempotency token and ACM lists no tags without a call per certificate: an interrupted
        // import is made again (the orphan, if any, is a certificate that costs nothing and expires)
        nil
    }

    func read(_ resources: [ResourceState], context: HandlerContext) async throws -> ReadResult {
        var live: [ResourceAddress: [String: Value]] = [:]
        var calls = 0
        for resource in resources {
            guard let arn = resource.id else { continue }
            calls += 1
            guard let certificate = try await describe(arn, context: context) else { continue }
            var attributes = Self.attributes(certificate, arn: arn)
            // the certificate ACM serves, compared with the file's: one imported over it outside deploy is drift
            let served = try await acm(context).call("GetCertificate", ["CertificateArn": .string(arn)])
            attributes["certificate_sha256"] = served["Certificate"]?.stringValue.flatMap(PEMBundle.digest).map(Value.string) ?? .null
            let tags = try await acm(context).call("ListTagsForCertificate", ["CertificateArn": .string(arn)])
            calls += 2
            attributes["tags"] = JSONService.tags(tags["Tags"])
            live[resource.address] = attributes
        }
        return ReadResult(live: live, apiCalls: calls)
    }
}
