/// An AWS partition: a group of regions sharing a DNS suffix and global-service endpoints.
public struct Partition: Sendable, Equatable {
    public var name: String
    public var dnsSuffix: String
    /// Where global services (IAM) live and are signed.
    public var globalRegion: String
    /// Region-name prefixes that belong to the partition, longest first when they overlap.
    var regionPrefixes: [String]

    public static let aws = Partition(name: "aws", dnsSuffix: "amazonaws.com", globalRegion: "us-east-1",
                                      regionPrefixes: ["us-", "eu-", "ap-", "sa-", "ca-", "me-", "af-", "il-", "mx-"])
    public static let awsUSGov = Partition(name: "aws-us-gov", dnsSuffix: "amazonaws.com", globalRegion: "us-gov-west-1",
                                           regionPrefixes: ["us-gov-"])
    public static let awsCN = Partition(name: "aws-cn", dnsSuffix: "amazonaws.com.cn", globalRegion: "cn-north-1",
                                        regionPrefixes: ["cn-"])
    public static let awsISO = Partition(name: "aws-iso", dnsSuffix: "c2s.ic.gov", globalRegion: "us-iso-east-1",
                                         regionPrefixes: ["us-iso-"])
    public static let awsISOB = Partition(name: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", globalRegion: "us-isob-east-1",
                                          regionPrefixes: ["us-isob-"])

    /// Most specific first: `us-gov-` and `us-iso` must win over `us-`.
    static let all: [Partition] = [.awsUSGov, .awsISOB, .awsISO, .awsCN, .aws]

    /// The partition of a region name, or nil for a name that fits none (`xx-foo-1`, `local`).
    public static func of(region: String) -> Partition? {
        guard isWellFormed(region) else { return nil }
        return all.first { partition in partition.regionPrefixes.contains { region.hasPrefix($0) } }
    }

    /// `area-name-N`: lower-case letters and digits in dash-separated parts ending in a number.
    static func isWellFormed(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, last.allSatisfy(\.isNumber) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLowercase || $0.isNumber } }
    }
}
