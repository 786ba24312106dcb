/// Finds personal data and secrets in a text, deterministically: no model, no network, a few passes over its bytes.
public enum SensitiveScanner {
    /// The findings of `kinds` in `text`, in order of position; where two overlap, the kind that comes first in
    /// `SensitiveKind` stands (a private key's body is not also a run of base64 secrets).
    public static func scan(_ text: String, kinds: Set<SensitiveKind> = Set(SensitiveKind.allCases)) -> [SensitiveMatch] {
        var kept: [SensitiveMatch] = []
        for match in all(ScanText(text), kinds: kinds) where !kept.contains(where: { $0.range.overlaps(match.range) }) { kept.append(match) }
        return kept.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// Every finding of `kinds`, overlapping ones included, in the order of the kinds: the guardrail filter resolves
    /// overlaps by the actions its rules take, not by kind.
    static func all(_ scanned: ScanText, kinds: Set<SensitiveKind>) -> [SensitiveMatch] {
        var all: [SensitiveMatch] = []
        for kind in kinds.sorted() {
            switch kind {
            case .privateKey: all += TokenDetectors.privateKeys(scanned)
            case .jwt: all += TokenDetectors.jsonWebTokens(scanned)
            case .awsAccessKey: all += TokenDetectors.awsAccessKeys(scanned)
            case .awsSecretKey: all += TokenDetectors.awsSecretKeys(scanned)
            case .iban: all += NumberDetectors.ibans(scanned)
            case .paymentCard: all += NumberDetectors.paymentCards(scanned)
            case .usSSN: all += NumberDetectors.socialSecurityNumbers(scanned)
            case .email: all += TokenDetectors.emails(scanned)
            case .ipAddress: all += TokenDetectors.ipAddresses(scanned)
            case .phone: all += NumberDetectors.phoneNumbers(scanned)
            }
        }
        return all
    }
}
