/// The AWS wire layer: credentials, SigV4, libcurl transport, retries, endpoints and the three
/// protocol families. The only code in deploy that speaks HTTP to AWS.
public enum AWSLibrary {
    /// The version sent in the User-Agent.
    public static let version = "0.1.0"
}
