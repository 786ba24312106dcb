/// Every rule `deploy check` runs, by id.
public enum RuleCatalog {
    public static let all: [Rule] = S3Rules.all + KMSRules.all + CloudTrailRules.all + NetworkRules.all + EC2Rules.all
        + IAMRules.all + DynamoDBRules.all + LogsRules.all + AccountRules.all + AccountStateRules.all + FleetRules.all

    public static func rule(_ id: String) -> Rule? { all.first { $0.id == id } }
}
