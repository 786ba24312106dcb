import Foundation

/// The AWS settings a command starts from: flags plus the environment.
public struct SessionInputs: Sendable {
    public var profile: String?
    public var region: String?
    public var endpointURL: String?
    public var caBundle: String?
    public var environment: [String: String]

    public init(profile: String? = nil, region: String? = nil, endpointURL: String? = nil, caBundle: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.profile = profile
        self.region = region
        self.endpointURL = endpointURL
        self.caBundle = caBundle
        self.environment = environment
    }
}

/// A ready client plus where each of its settings came from.
public struct Session: Sendable {
    public var client: AWSClient
    public var region: String
    public var regionSource: String
    public var credentialSource: String
}

/// Resolves credentials, region and endpoints in the AWS CLI's order:
/// `--profile`; else environment keys; else `AWS_PROFILE` or `default` from the shared files.
/// A profile may assume a role (`role_arn` with `source_profile` or `credential_source = Environment`).
public struct SessionResolver: Sendable {
    public var inputs: SessionInputs
    public var observer: (@Sendable (RequestEvent) -> Void)?

    public init(inputs: SessionInputs, observer: (@Sendable (RequestEvent) -> Void)? = nil) {
        self.inputs = inputs
        self.observer = observer
    }

    public func resolve() throws -> Session {
        let env = inputs.environment
        let files = try SharedConfig.load(environment: env)
        let profileName = inputs.profile ?? nonEmpty(env["AWS_PROFILE"]) ?? "default"
        let profile = files.profile(profileName)
        if profile == nil, inputs.profile != nil || nonEmpty(env["AWS_PROFILE"]) != nil {
            let known = files.profileNames
            throw AWSConfigurationError("profile '\(profileName)' not found in \(files.config.path) or \(files.credentials.path)"
                + (known.isEmpty ? "" : "; known profiles: \(known.joined(separator: ", "))"))
        }
        let (region, regionSource) = try resolveRegion(profile: profile, files: files)
        let configuration = try makeConfiguration(region: region, profile: profile)

        let provider: any CredentialProvider
        let source: String
        if inputs.profile == nil, let keys = try environmentCredentials() {
            provider = StaticCredentialProvider(keys)
            source = keys.source
        } else if let profile {
            (provider, source) = try profileProvider(profile, files: files, configuration: configuration, visited: [])
        } else {
            let paths = SharedConfigPaths(environment: env)
            throw AWSConfigurationError("no AWS credentials found; searched: environment variables AWS_ACCESS_KEY_ID and "
                + "AWS_SECRET_ACCESS_KEY, profile '\(profileName)' in \(paths.credentials), profile '\(profileName)' in \(paths.config)")
        }
        let client = AWSClient(configuration: configuration, credentials: provider, observer: observer)
        return Session(client: client, region: region, regionSource: regionSource, credentialSource: source)
    }

    private func resolveRegion(profile: Profile?, files: SharedConfig) throws -> (String, String) {
        let env = inputs.environment
        if let region = nonEmpty(inputs.region) { return (region, "--region") }
        if let region = nonEmpty(env["AWS_REGION"]) { return (region, "AWS_REGION") }
        if let region = nonEmpty(env["AWS_DEFAULT_REGION"]) { return (region, "AWS_DEFAULT_REGION") }
        if let profile, let region = profile["region"] { return (region, profile.location(of: "region")) }
        throw AWSConfigurationError("no region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, "
            + "or add 'region = ...' to the profile in \(files.config.path)")
    }

    private func makeConfiguration(region: String, profile: Profile?) throws -> ClientConfiguration {
        let env = inputs.environment
        var configuration = ClientConfiguration(region: region)
        configuration.endpoints = EndpointResolver(commandLineURL: inputs.endpointURL, environment: env,
                                                   profileURL: profile?["endpoint_url"])
        if let text = nonEmpty(env["AWS_MAX_ATTEMPTS"]) ?? profile?["max_attempts"] {
            guard let attempts = Int(text), attempts >= 1 else {
                throw AWSConfigurationError("max_attempts must be a whole number of at least 1, not '\(text)'")
            }
            configuration.retry.maxAttempts = attempts
        }
        configuration.transport.caBundlePath = nonEmpty(inputs.caBundle) ?? nonEmpty(env["AWS_CA_BUNDLE"]) ?? profile?["ca_bundle"]
        if let bundle = configuration.transport.caBundlePath, !FileManager.default.fileExists(atPath: bundle) {
            throw AWSConfigurationError("CA bundle \(bundle) does not exist")
        }
        if let style = profile?["s3.addressing_style"] {
            guard let parsed = ClientConfiguration.S3AddressingStyle(rawValue: style) else {
                throw AWSConfigurationError("\(profile?.location(of: "s3.addressing_style") ?? "config"): "
                    + "addressing_style must be auto, virtual or path, not '\(style)'")
            }
            configuration.s3AddressingStyle = parsed
        }
        return configuration
    }

    private func environmentCredentials() throws -> Credentials? {
        let env = inputs.environment
        let id = nonEmpty(env["AWS_ACCESS_KEY_ID"])
        let secret = nonEmpty(env["AWS_SECRET_ACCESS_KEY"])
        switch (id, secret) {
        case (nil, nil):
            return nil
        case (let id?, let secret?):
            return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: nonEmpty(env["AWS_SESSION_TOKEN"]),
                               source: "environment")
        case (nil, _):
            throw AWSConfigurationError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_, nil):
            throw AWSConfigurationError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
    }

    private func profileProvider(_ profile: Profile, files: SharedConfig, configuration: ClientConfiguration,
                                 visited: [String]) throws -> (any CredentialProvider, String) {
        for unsupported in ["credential_process", "sso_session", "sso_start_url", "web_identity_token_file", "mfa_serial"]
        where profile[unsupported] != nil {
            throw AWSConfigurationError("\(profile.location(of: unsupported)): '\(unsupported)' is not supported by deploy; "
                + "use access keys or role_arn with source_profile")
        }
        // A source profile's own keys win over its role_arn, as in the AWS CLI.
        let isSource = !visited.isEmpty
        if let id = profile["aws_access_key_id"], isSource || profile["role_arn"] == nil {
            guard let secret = profile["aws_secret_access_key"] else {
                throw AWSConfigurationError("\(profile.location(of: "aws_access_key_id")): profile '\(profile.name)' "
                    + "has aws_access_key_id but no aws_secret_access_key")
            }
            let keys = Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: profile["aws_session_token"],
                                   source: "profile \(profile.name)")
            return (StaticCredentialProvider(keys), keys.source)
        }
        guard let roleARN = profile["role_arn"] else {
            throw AWSConfigurationError("profile '\(profile.name)' has no credentials: it sets neither "
                + "aws_access_key_id/aws_secret_access_key nor role_arn")
        }
        let source = try roleSource(profile, files: files, configuration: configuration, visited: visited)
        var duration: Int?
        if let text = profile["duration_seconds"] {
            guard let seconds = Int(text), (900...43_200).contains(seconds) else {
                throw AWSConfigurationError("\(profile.location(of: "duration_seconds")): duration_seconds must be "
                    + "between 900 and 43200, not '\(text)'")
            }
            duration = seconds
        }
        let sourceClient = AWSClient(configuration: configuration, credentials: source, observer: observer)
        let assume = AssumeRoleCredentialProvider(
            roleARN: roleARN, sessionName: profile["role_session_name"] ?? "deploy-\(Int(Date().timeIntervalSince1970))",
            externalID: profile["external_id"], durationSeconds: duration, client: sourceClient, profileName: profile.name)
        return (RefreshingCredentialProvider(source: assume), "profile \(profile.name) (assumed role \(roleARN))")
    }

    private func roleSource(_ profile: Profile, files: SharedConfig, configuration: ClientConfiguration,
                            visited: [String]) throws -> any CredentialProvider {
        if let sourceName = profile["source_profile"] {
            let chain = visited + [profile.name]
            guard !chain.contains(sourceName) else {
                throw AWSConfigurationError("\(profile.location(of: "source_profile")): source_profile cycle "
                    + (chain + [sourceName]).joined(separator: " -> "))
            }
            guard let sourceProfile = files.profile(sourceName) else {
                throw AWSConfigurationError("\(profile.location(of: "source_profile")): source_profile '\(sourceName)' not found")
            }
            return try profileProvider(sourceProfile, files: files, configuration: configuration, visited: chain).0
        }
        if let origin = profile["credential_source"] {
            guard origin == "Environment" else {
                throw AWSConfigurationError("\(profile.location(of: "credential_source")): credential_source '\(origin)' "
                    + "is not supported; use Environment or source_profile")
            }
            guard let keys = try environmentCredentials() else {
                throw AWSConfigurationError("\(profile.location(of: "credential_source")): credential_source = Environment "
                    + "but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
            }
            return StaticCredentialProvider(keys)
        }
        throw AWSConfigurationError("\(profile.location(of: "role_arn")): role_arn needs source_profile or credential_source")
    }

    private func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
