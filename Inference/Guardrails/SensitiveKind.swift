/// The kinds of personal data and secrets the deterministic detectors find.
public enum SensitiveKind: String, CaseIterable, Sendable, Comparable {
    case privateKey = "private_key"
    case jwt
    case awsAccessKey = "aws_access_key"
    case awsSecretKey = "aws_secret_key"
    case iban
    case paymentCard = "payment_card"
    case usSSN = "us_ssn"
    case email
    case ipAddress = "ip_address"
    case phone

    /// Where two findings overlap, the one of the kind listed first stands (a key block before the numbers in it).
    public static func < (lhs: SensitiveKind, rhs: SensitiveKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One finding: its kind and where it is, as UTF-8 byte offsets into the scanned text.
public struct SensitiveMatch: Equatable, Sendable {
    public var kind: SensitiveKind
    public var range: Range<Int>

    public init(kind: SensitiveKind, range: Range<Int>) {
        self.kind = kind
        self.range = range
    }
}
