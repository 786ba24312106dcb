import Foundation
import Glibc

/// Unpacks a verified bundle: into a new directory beside the destination, every byte checked on the way, renamed
/// into place only when all of it is there and right. Nothing is written outside it; a failure leaves nothing behind.
public enum BundleImport {
    public static func extract(_ bundle: OpenedBundle, to destination: String, only: ((ArchiveEntry) -> Bool)? = nil,
                               progress: @Sendable (Int64, Int64) -> Void = { _, _ in }) throws(BundleError) {
        let target = (destination as NSString).standardizingPath
        guard !FileManager.default.fileExists(atPath: target) else {
            throw BundleError("already exists; import into a new directory", file: target)
        }
        let parent = (target as NSString).deletingLastPathComponent
        let staging = (parent.isEmpty ? "." : parent) + "/." + (target as NSString).lastPathComponent + ".importing-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(staging, 0o700) == 0 else { throw BundleError("cannot create: \(String(cString: strerror(errno)))", file: staging) }
        var succeeded = false
        defer { if !succeeded { try? FileManager.default.removeItem(atPath: staging) } }
        let roles = Dictionary(bundle.manifest.files.map { ($0.path, $0.role) }) { first, _ in first }
        var open: (path: String, descriptor: Int32)?
        func finishFile() throws(BundleError) {
            guard let current = open else { return }
            open = nil
            guard fsync(current.descriptor) == 0, close(current.descriptor) == 0 else {
                throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: current.path)
            }
        }
        let wanted = bundle.entries.filter { only?($0) ?? true }
        let paths = Set(wanted.map(\.path))
        // zero-byte files get no data callback: make every file first, then fill them in archive order
        for entry in wanted {
            let path = staging + "/" + entry.path
            try makeParents(of: path, under: staging)
            let executable = ["deploy", "inference-server"].contains(roles[entry.path] ?? "")
            let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, executable ? 0o755 : 0o644)
            guard descriptor >= 0 else { throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: path) }
            close(descriptor)
        }
        var current: String?
        try BundleReader.scan(bundle, progress: progress) { entry, bytes throws(BundleError) in
            guard paths.contains(entry.path) else { return }
            if current != entry.path {
                try finishFile()
                let path = staging + "/" + entry.path
                let descriptor = Glibc.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW)
                guard descriptor >= 0 else { throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: path) }
                open = (path, descriptor)
                current = entry.path
            }
            var written = 0
            while written < bytes.count {
                let count = write(open!.descriptor, bytes.baseAddress! + written, bytes.count - written)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: open!.path) }
                written += count
            }
        }
        try finishFile()
        guard rename(staging, target) == 0 else { throw BundleError("cannot rename into place: \(String(cString: strerror(errno)))", file: target) }
        succeeded = true
    }

    /// Creates the directories of `path` below `root` (the entry paths were checked: relative, no `..`).
    private static func makeParents(of path: String, under root: String) throws(BundleError) {
        let directory = (path as NSString).deletingLastPathComponent
        guard directory.hasPrefix(root) else { throw BundleError("outside the import directory", file: path) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw BundleError("cannot create: \(error.localizedDescription)", file: directory)
        }
    }
}
