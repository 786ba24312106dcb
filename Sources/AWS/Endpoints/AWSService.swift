/// What the client needs to know about a service to address, sign and decode it.
public struct AWSService: Sendable, Hashable {
    /// The wire protocol family.
    public enum WireProtocol: Sendable, Hashable {
        /// Form-encoded `Action`/`Version` requests, XML responses (STS, IAM; EC2's dialect too).
        case query(version: String)
        /// JSON bodies with an `X-Amz-Target` header (`prefix.Operation`).
        case json(version: String, targetPrefix: String)
        /// REST paths and XML bodies (S3).
        case restXML
    }

    /// The name used in SigV4 scopes and IAM actions: `sts`, `s3`, `logs`.
    public var signingName: String
    /// The first label of the endpoint host.
    public var endpointPrefix: String
    /// The suffix of `AWS_ENDPOINT_URL_<SERVICE>`: the service id upper-cased, spaces to underscores.
    public var environmentName: String
    public var wireProtocol: WireProtocol
    /// Global services have one endpoint per partition, signed for that partition's home region.
    public var isGlobal: Bool

    public init(signingName: String, endpointPrefix: String, environmentName: String,
                wireProtocol: WireProtocol, isGlobal: Bool = false) {
        self.signingName = signingName
        self.endpointPrefix = endpointPrefix
        self.environmentName = environmentName
        self.wireProtocol = wireProtocol
        self.isGlobal = isGlobal
    }

    public static let sts = AWSService(signingName: "sts", endpointPrefix: "sts", environmentName: "STS",
                                       wireProtocol: .query(version: "2011-06-15"))
    public static let iam = AWSService(signingName: "iam", endpointPrefix: "iam", environmentName: "IAM",
                                       wireProtocol: .query(version: "2010-05-08"), isGlobal: true)
    public static let ec2 = AWSService(signingName: "ec2", endpointPrefix: "ec2", environmentName: "EC2",
                                       wireProtocol: .query(version: "2016-11-15"))
    public static let kms = AWSService(signingName: "kms", endpointPrefix: "kms", environmentName: "KMS",
                                       wireProtocol: .json(version: "1.1", targetPrefix: "TrentService"))
    public static let dynamodb = AWSService(signingName: "dynamodb", endpointPrefix: "dynamodb",
                                            environmentName: "DYNAMODB",
                                            wireProtocol: .json(version: "1.0", targetPrefix: "DynamoDB_20120810"))
    public static let cloudtrail = AWSService(signingName: "cloudtrail", endpointPrefix: "cloudtrail",
                                              environmentName: "CLOUDTRAIL",
                                              wireProtocol: .json(version: "1.1",
                                                                  targetPrefix: "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"))
    public static let logs = AWSService(signingName: "logs", endpointPrefix: "logs", environmentName: "CLOUDWATCH_LOGS",
                                        wireProtocol: .json(version: "1.1", targetPrefix: "Logs_20140328"))
    public static let autoscaling = AWSService(signingName: "autoscaling", endpointPrefix: "autoscaling", environmentName: "AUTO_SCALING",
                                               wireProtocol: .query(version: "2011-01-01"))
    /// Elastic Load Balancing v2 (network and application load balancers).
    public static let elbv2 = AWSService(signingName: "elasticloadbalancing", endpointPrefix: "elasticloadbalancing",
                                         environmentName: "ELASTIC_LOAD_BALANCING_V2", wireProtocol: .query(version: "2015-12-01"))
    public static let acm = AWSService(signingName: "acm", endpointPrefix: "acm", environmentName: "ACM",
                                       wireProtocol: .json(version: "1.1", targetPrefix: "CertificateManager"))
    public static let s3 = AWSService(signingName: "s3", endpointPrefix: "s3", environmentName: "S3",
                                      wireProtocol: .restXML)
    /// S3 Control: account-level S3 settings, at `<account>.s3-control.<region>`, signed as s3.
    public static let s3control = AWSService(signingName: "s3", endpointPrefix: "s3-control", environmentName: "S3_CONTROL",
                                             wireProtocol: .restXML)
}
