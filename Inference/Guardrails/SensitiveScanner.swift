/// Finds personal data and secrets in a text, deterministically: no model, no network, a few passes over its bytes.
public enum SensitiveScanner {
    /// The findings of `kinds` in `text`, in order of position; where two overlap, the kind that comes first in
    /// `SensitiveKind` stands (a private key's body is not also a run of base64 secrets).
    public static func scan(_ text: String, kinds: Set<SensitiveKind> = Set(SensitiveKind.allCases)) -> [SensitiveMatch] {
        let scanned = ScanText(text)
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
        var kept: [SensitiveMatch] = []
        for match in all where !kept.contains(where: { $0.range.overlaps(match.range) }) { kept.append(match) }
        return kept.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }
}
