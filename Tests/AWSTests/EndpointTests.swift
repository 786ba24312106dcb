import Testing
@testable import AWS

@Suite("Endpoints")
struct EndpointTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var service: AWSService
        var region: String
        var url: String
        var signingRegion: String
        var testDescription: String { "\(service.signingName) in \(region)" }
    }

    @Test("partition naming rules", arguments: [
        Case(service: .sts, region: "us-east-1", url: "https://sts.us-east-1.amazonaws.com", signingRegion: "us-east-1"),
        Case(service: .ec2, region: "eu-west-1", url: "https://ec2.eu-west-1.amazonaws.com", signingRegion: "eu-west-1"),
        Case(service: .iam, region: "eu-west-1", url: "https://iam.amazonaws.com", signingRegion: "us-east-1"),
        Case(service: .iam, region: "us-gov-west-1", url: "https://iam.us-gov.amazonaws.com", signingRegion: "us-gov-west-1"),
        Case(service: .iam, region: "cn-northwest-1", url: "https://iam.cn-north-1.amazonaws.com.cn", signingRegion: "cn-north-1"),
        Case(service: .kms, region: "cn-north-1", url: "https://kms.cn-north-1.amazonaws.com.cn", signingRegion: "cn-north-1"),
        Case(service: .logs, region: "us-gov-east-1", url: "https://logs.us-gov-east-1.amazonaws.com", signingRegion: "us-gov-east-1"),
        Case(service: .s3, region: "us-iso-east-1", url: "https://s3.us-iso-east-1.c2s.ic.gov", signingRegion: "us-iso-east-1"),
        Case(service: .dynamodb, region: "us-isob-east-1", url: "https://dynamodb.us-isob-east-1.sc2s.sgov.gov", signingRegion: "us-isob-east-1"),
    ])
    func partitions(_ example: Case) throws {
        let endpoint = try EndpointResolver().resolve(example.service, region: example.region)
        #expect(endpoint.url == example.url)
        #expect(endpoint.signingRegion == example.signingRegion)
    }

    @Test("overrides: flag, then per-service variable, then global variable, then profile")
    func overrides() throws {
        let env = ["AWS_ENDPOINT_URL": "http://global:1", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "http://logs:2/base/"]
        let resolver = EndpointResolver(environment: env, profileURL: "http://profile:3")
        #expect(try resolver.resolve(.logs, region: "us-east-1").url == "http://logs:2/base")
        #expect(try resolver.resolve(.kms, region: "us-east-1").url == "http://global:1")
        #expect(try EndpointResolver(profileURL: "https://profile").resolve(.kms, region: "eu-west-1").url == "https://profile")
        let flag = EndpointResolver(commandLineURL: "https://[::1]:8443", environment: env)
        let endpoint = try flag.resolve(.kms, region: "eu-west-1")
        #expect(endpoint.host == "[::1]" && endpoint.port == 8443 && endpoint.signingRegion == "eu-west-1")
        let ignored = EndpointResolver(environment: env.merging(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]) { $1 })
        #expect(try ignored.resolve(.kms, region: "eu-west-1").url == "https://kms.eu-west-1.amazonaws.com")
    }

    @Test("unknown regions and bad URLs are errors", arguments: ["mars-1", "US-EAST-1", "us-east", ""])
    func unknownRegion(_ region: String) {
        #expect(throws: EndpointError.self) { try EndpointResolver().resolve(.sts, region: region) }
    }

    @Test("URLs that are not http(s) are rejected", arguments: ["ftp://x", "localhost:4566", "http://", "http://h:99999"])
    func badURL(_ url: String) {
        #expect(Endpoint.parse(url, signingRegion: "r") == nil)
    }

    @Test("S3 addressing: virtual-host for DNS-compatible names on AWS, path-style otherwise")
    func s3Addressing() throws {
        let keys = StaticCredentialProvider(Credentials(accessKeyID: "a", secretAccessKey: "s"))
        let aws = AWSClient(configuration: ClientConfiguration(region: "eu-west-1"), credentials: keys)
        let operation = AWSOperation(service: .s3, name: "GetObject", method: "GET", path: "/a%20b", bucket: "models")
        let virtual = aws.makeRequest(operation, endpoint: try aws.endpoint(for: .s3))
        #expect(virtual.url == "https://models.s3.eu-west-1.amazonaws.com/a%20b")
        var dotted = operation
        dotted.bucket = "my.models"
        #expect(aws.makeRequest(dotted, endpoint: try aws.endpoint(for: .s3)).url == "https://s3.eu-west-1.amazonaws.com/my.models/a%20b")
        let custom = AWSClient(configuration: ClientConfiguration(region: "eu-west-1",
                                                                  endpoints: EndpointResolver(commandLineURL: "http://127.0.0.1:9000")),
                               credentials: keys)
        #expect(custom.makeRequest(operation, endpoint: try custom.endpoint(for: .s3)).url == "http://127.0.0.1:9000/models/a%20b")
    }
}
