import Foundation
import Glibc

/// The two directory trees a stack's files may come from: the stack file's directory and the templates directory.
/// A file the stack uploads must lie below one of them, by its path and, once every symbolic link is resolved, by
/// where it really is: so a stack cannot make `plan` hash, or `apply` upload, a file such as /etc/shadow, and a bundle
/// can keep every file where the stack finds it (`Stacks/...`, `Templates/...`).
public struct ArtifactRoots: Sendable {
    /// Which tree a file lies in.
    public enum Root: Sendable, Equatable {
        case stack, templates
    }

    /// Where a file lies, or why it lies nowhere allowed.
    public enum Placement: Sendable, Equatable {
        /// Below `root`, at `relative` (plain components, no `..`).
        case inside(Root, relative: String)
        /// Outside both trees by its path.
        case outside
        /// Inside by its path, but a symbolic link on the way leads to `target`, outside both trees.
        case linkedOutside(target: String)
    }

    /// Absolute, with `.` and `..` resolved (symbolic links are not).
    public let stackDirectory: String
    public let templatesDirectory: String

    public init(stackFile: String, templatesDirectory: String) {
        stackDirectory = Self.absolute((stackFile as NSString).deletingLastPathComponent)
        self.templatesDirectory = Self.absolute(templatesDirectory)
    }

    /// Where `path` lies by its path alone (resolved against the current directory when relative); the templates
    /// first, as they may sit inside the stack's directory.
    public func place(_ path: String) -> Placement {
        let path = Self.absolute(path)
        for (root, directory) in [(Root.templates, templatesDirectory), (.stack, stackDirectory)] {
            let prefix = directory == "/" ? "/" : directory + "/"
            if path.hasPrefix(prefix), path.count > prefix.count { return .inside(root, relative: String(path.dropFirst(prefix.count))) }
        }
        return .outside
    }

    /// Where `path` lies, and, when it exists, where it really is: a symbolic link (the file's own or a directory's
    /// on the way) that leads out of both trees makes it `.linkedOutside`.
    public func locate(_ path: String) -> Placement {
        let placement = place(path)
        guard case .inside = placement, let real = Self.real(Self.absolute(path)) else { return placement }
        let roots = [templatesDirectory, stackDirectory].map { Self.real($0) ?? $0 }
        let inside = roots.contains { root in real.hasPrefix(root == "/" ? "/" : root + "/") }
        return inside ? placement : .linkedOutside(target: real)
    }

    /// `path` from the root, with `.` and `..` resolved.
    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path.isEmpty ? "." : path).standardizedFileURL.path
    }

    /// `path` with every symbolic link resolved, or nil when it does not exist.
    static func real(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

extension StackConfiguration {
    /// The trees this stack's files may come from: beside the stack file, and its templates directory.
    public var artifactRoots: ArtifactRoots {
        ArtifactRoots(stackFile: stack.file, templatesDirectory: templatesDirectory)
    }
}
