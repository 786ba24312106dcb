import TextSafety

/// AWS's own limits on a resource's tags, checked when the stack is validated so that a stack AWS would refuse
/// never gets as far as an apply.
///
/// The tags deploy adds to every taggable resource (`DeployTags`) are ordinary tags to AWS and count toward its
/// limit: a stack may declare `stackTags` of its own, and a template's tags on a resource come out of the same budget.
public enum TagLimits {
    /// Tags on one resource for the services deploy uses (EC2, IAM, KMS, S3 buckets, DynamoDB, CloudTrail, Logs).
    public static let perResource = 50
    /// Tags on one S3 object.
    public static let perObject = 10
    /// Characters (Unicode scalars, as AWS counts them) in a tag key.
    public static let keyLength = 128
    /// Characters in a tag value.
    public static let valueLength = 256
    /// The tags deploy adds to every taggable resource.
    public static let deployTags = [DeployTags.stack, DeployTags.address, DeployTags.managedBy]
    /// The most tags a stack may declare: a resource's limit less deploy's own.
    public static var stackTags: Int { perResource - deployTags.count }

    /// Why AWS would refuse this tag's key or value, or nil when it accepts them; `inValue` says which to point at.
    public static func problem(key: String, value: String) -> (message: String, inValue: Bool)? {
        let keyLength = key.unicodeScalars.count
        if keyLength == 0 || keyLength > Self.keyLength || key.lowercased().hasPrefix("aws:") || value.unicodeScalars.count > valueLength {
            return ("tag '\(SafeText.quoted(key))' is not allowed: keys are 1-\(Self.keyLength) characters and cannot start with 'aws:'; "
                    + "values at most \(valueLength)", false)
        }
        if ControlCharacters.present(in: key) || ControlCharacters.present(in: value) {
            return ("tag '\(SafeText.quoted(key))' holds a control character", true)
        }
        return nil
    }

    /// What to say when `count` tags exceed `limit` on a resource of `type`.
    static func tooMany(_ count: Int, limit: Int, type: String) -> String {
        "\(count) tags, more than the \(limit) AWS allows on an \(type) (deploy's own \(deployTags.count) among them: \(deployTags.joined(separator: ", ")))"
    }
}
