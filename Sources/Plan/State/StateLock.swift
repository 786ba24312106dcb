import Hashing
import Foundation
import Stack
import TextSafety
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// Who holds a state lock, and since when.
public struct LockInfo: Codable, Sendable, Equatable {
    public var id: String
    public var operation: String
    public var who: String
    public var host: String
    public var pid: Int32
    public var created: String
}

extension LockInfo {
    /// Every field with its control characters escaped and cut to a line: a lock may come from anyone who can
    /// write where it is kept.
    public var quoted: LockInfo {
        LockInfo(id: SafeText.quoted(id, limit: 80), operation: SafeText.quoted(operation, limit: 80), who: SafeText.quoted(who, limit: 80),
                 host: SafeText.quoted(host, limit: 80), pid: pid, created: SafeText.quoted(created, limit: 80))
    }

    /// A new lock's holder: this process, for `operation`, from `now`.
    static func current(operation: String, now: Date) -> LockInfo {
        LockInfo(id: UUID().uuidString.lowercased(), operation: operation, who: StateLock.currentUser(), host: StateLock.hostName(),
                 pid: getpid(), created: ISO8601DateFormatter().string(from: now))
    }
}

/// A state lock held by someone else, or a lock that could not be taken or removed.
public struct LockError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var holder: LockInfo?
    public var description: String { message }
}

/// An exclusive lock on one state file: `<state>.lock`, holding who took it. It appears whole or not at all: its
/// content is written and synced in a temporary file first, then hard-linked into place (a link fails when the lock
/// exists), so no reader ever sees an empty or half-written lock. A lock left by a process that no longer runs on
/// this same host is taken over; any other is reported.
public final class StateLock: StateLease {
    public let info: LockInfo
    public let path: String
    /// Set when a stale lock was taken over, for the caller to show.
    public let warning: String?

    private init(info: LockInfo, path: String, warning: String?) {
        self.info = info
        self.path = path
        self.warning = warning
    }

    public static func lockPath(forState statePath: String) -> String { statePath + ".lock" }

    /// Takes the lock for `operation` ("plan", "apply", ...).
    public static func acquire(statePath: String, operation: String, now: Date = Date()) throws(LockError) -> StateLock {
        let path = lockPath(forState: statePath)
        do {
            try AtomicFile.makeDirectory((statePath as NSString).deletingLastPathComponent)
        } catch {
            throw LockError(message: "cannot create the state directory: \(error)")
        }
        let info = LockInfo.current(operation: operation, now: now)
        var warning: String?
        for _ in 0..<2 {
            if try create(path, info) {
                let lock = StateLock(info: info, path: path, warning: warning)
                HeldLeases.shared.add(lock)
                return lock
            }
            guard let holder = read(path) else {
                throw LockError(message: "the state is locked by \(path), which cannot be read (empty or damaged); if no run is active, "
                                    + "remove it with: deploy unlock --force --state \(ShellQuoting.word(Paths.absolute(statePath)))", holder: nil)
            }
            guard holder.host == info.host, holder.pid != info.pid, !processExists(holder.pid) else {
                throw LockError(message: describeHeld(holder, statePath: statePath, now: now), holder: holder)
            }
            unlink(path)
            let shown = holder.quoted
            warning = "took over a stale state lock: pid \(shown.pid) on \(shown.host) (\(shown.operation) by \(shown.who) since \(shown.created)) is no longer running"
        }
        throw LockError(message: "another run took the state lock at the same moment; try again", holder: read(path))
    }

    /// Removes the lock if it is still ours.
    public func release() {
        HeldLeases.shared.remove(self)
        if Self.read(path)?.id == info.id { unlink(path) }
    }

    /// `deploy unlock LOCK_ID`: removes a lock whose id matches. Without an id, removes a lock only when it cannot
    /// be read (empty or damaged), and returns nil: a readable lock always needs its id.
    public static func forceUnlock(statePath: String, id: String?) throws(LockError) -> LockInfo? {
        let path = lockPath(forState: statePath)
        guard access(path, F_OK) == 0 else {
            throw LockError(message: "the state \(statePath) is not locked", holder: nil)
        }
        guard let holder = read(path) else {
            guard id == nil else {
                throw LockError(message: "the lock \(path) cannot be read (empty or damaged), so no id can match; remove it with --force and no id",
                                holder: nil)
            }
            guard unlink(path) == 0 else {
                throw LockError(message: "cannot remove \(path): \(String(cString: strerror(errno)))", holder: nil)
            }
            return nil
        }
        guard let id else {
            throw LockError(message: "the lock on \(statePath) is readable: give its id (\(holder.id)), which --force does not replace",
                            holder: holder)
        }
        guard holder.id == id else {
            throw LockError(message: "the lock on \(statePath) has id \(holder.id), not \(id); nothing was removed", holder: holder)
        }
        guard unlink(path) == 0 else {
            throw LockError(message: "cannot remove \(path): \(String(cString: strerror(errno)))", holder: holder)
        }
        return holder
    }

    /// The current lock on a state, if any.
    public static func holder(statePath: String) -> LockInfo? { read(lockPath(forState: statePath)) }

    /// Creates the lock with its content in one step; false when a lock is already there.
    private static func create(_ path: String, _ info: LockInfo) throws(LockError) -> Bool {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw LockError(message: "cannot create the lock \(path): \(String(cString: strerror(errno)))", holder: nil)
        }
        defer { unlink(temporary) }
        let data = (try? JSONEncoder().encode(info)) ?? Data()
        let written = data.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == data.count, synced else { throw LockError(message: "cannot write the lock \(path)", holder: nil) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw LockError(message: "cannot create the lock \(path): \(String(cString: strerror(errno)))", holder: nil)
        }
        return true
    }

    private static func read(_ path: String) -> LockInfo? {
        guard let bytes = try? RegularFile.contents(path, limit: 1 << 20) else { return nil }
        return try? JSONDecoder().decode(LockInfo.self, from: Data(bytes))
    }

    private static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    private static func describeHeld(_ recorded: LockInfo, statePath: String, now: Date) -> String {
        let holder = recorded.quoted
        var age = ""
        if let created = ISO8601DateFormatter().date(from: holder.created) {
            age = " (\(Self.duration(now.timeIntervalSince(created))) ago)"
        }
        return "the state is locked by \(holder.who) on \(holder.host), pid \(holder.pid), for \(holder.operation) since \(holder.created)\(age). "
            + "If that run is gone, remove the lock with: deploy unlock --state \(ShellQuoting.word(Paths.absolute(statePath))) \(holder.id)"
    }

    static func duration(_ seconds: TimeInterval) -> String {
        let total = max(0, Int(seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(total % 60)s" }
        if total < 86400 { return "\(total / 3600)h\(total % 3600 / 60)m" }
        return "\(total / 86400)d\(total % 86400 / 3600)h"
    }

    fileprivate static func currentUser() -> String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    fileprivate static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown-host" }
        return String(cString: buffer)
    }
}

extension LockError: UserFacingError {
    public var failureKind: FailureKind { .failure }
}
