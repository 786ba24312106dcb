/// Everything an `AWSClient` is configured with, besides credentials.
public struct ClientConfiguration: Sendable {
    /// How S3 requests name their bucket.
    public enum S3AddressingStyle: String, Sendable {
        /// Virtual-host on AWS's own endpoints when the bucket name allows it, path-style on custom endpoints.
        case auto
        /// `https://bucket.s3.region.amazonaws.com/key`
        case virtual
        /// `https://s3.region.amazonaws.com/bucket/key`
        case path
    }

    public var region: String
    public var endpoints: EndpointResolver
    public var retry: RetryPolicy
    public var transport: TransportOptions
    public var s3AddressingStyle: S3AddressingStyle

    public init(region: String, endpoints: EndpointResolver = EndpointResolver(), retry: RetryPolicy = RetryPolicy(),
                transport: TransportOptions = TransportOptions(), s3AddressingStyle: S3AddressingStyle = .auto) {
        self.region = region
        self.endpoints = endpoints
        self.retry = retry
        self.transport = transport
        self.s3AddressingStyle = s3AddressingStyle
    }
}
