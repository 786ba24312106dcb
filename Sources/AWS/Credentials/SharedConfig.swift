import Foundation

/// The AWS CLI's two files read together: `~/.aws/config` (`[profile NAME]`, `[default]`) and
/// `~/.aws/credentials` (`[NAME]`), where the credentials file wins for the keys it sets.
public struct SharedConfig: Sendable {
    public var config: SharedConfigFile
    public var credentials: SharedConfigFile

    public init(config: SharedConfigFile, credentials: SharedConfigFile) {
        self.config = config
        self.credentials = credentials
    }

    /// Loads both files from the locations the environment names (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`).
    public static func load(environment: [String: String]) throws(ConfigFileError) -> SharedConfig {
        let paths = SharedConfigPaths(environment: environment)
        return SharedConfig(config: try .load(path: paths.config), credentials: try .load(path: paths.credentials))
    }

    /// A profile's settings from both files, or nil when neither file has it.
    public func profile(_ name: String) -> Profile? {
        let configSection = config.sections[name == "default" ? "default" : "profile \(name)"]
            ?? (name == "default" ? config.sections["profile default"] : nil)
        let credentialSection = credentials.sections[name]
        guard configSection != nil || credentialSection != nil else { return nil }
        var settings: [String: (SharedConfigFile.Setting, String)] = [:]
        for (key, setting) in configSection?.settings ?? [:] { settings[key] = (setting, config.path) }
        for (key, setting) in credentialSection?.settings ?? [:] { settings[key] = (setting, credentials.path) }
        return Profile(name: name, settings: settings)
    }

    /// Every profile name either file defines.
    public var profileNames: [String] {
        let fromConfig = config.sections.keys.compactMap { key -> String? in
            key == "default" ? "default" : key.hasPrefix("profile ") ? String(key.dropFirst("profile ".count)) : nil
        }
        return Array(Set(fromConfig + credentials.sections.keys)).sorted()
    }
}

/// One profile's merged settings, each remembering its file and line.
public struct Profile: Sendable {
    public var name: String
    var settings: [String: (SharedConfigFile.Setting, String)]

    public subscript(key: String) -> String? {
        guard let value = settings[key]?.0.value, !value.isEmpty else { return nil }
        return value
    }

    /// `file:line` of a setting, for messages.
    public func location(of key: String) -> String {
        guard let (setting, path) = settings[key] else { return "profile \(name)" }
        return "\(path):\(setting.line)"
    }
}

/// Where the shared files are.
public struct SharedConfigPaths: Sendable {
    public var config: String
    public var credentials: String

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        config = Self.expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config", home: home)
        credentials = Self.expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials", home: home)
    }

    static func expand(_ path: String, home: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst() : path
    }
}
