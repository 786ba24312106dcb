import Foundation
import Glibc
import Hashing

/// Where an export's bytes go: one file, or numbered parts of at most `partSize` bytes (`NAME.000`, ...) with an
/// index at NAME. Everything is written under temporary names beside the output and renamed into place only when
/// complete, so a failed or interrupted export leaves nothing that looks like a bundle.
final class ArchiveSink {
    private struct Part {
        var temporary: String
        var final: String
        var descriptor: Int32
        var size: Int64 = 0
        /// How much of the part the kernel was told to start writing out.
        var flushed: Int64 = 0
        var hash = SHA256Stream()
    }

    let output: String
    private let partSize: Int64?
    private var parts: [Part] = []
    private(set) var size: Int64 = 0
    private let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    init(output: String, partSize: Int64?) throws(BundleError) {
        self.output = output
        self.partSize = partSize
        try openPart()
    }

    private func openPart() throws(BundleError) {
        let final = partSize == nil ? output : output + String(format: ".%03d", parts.count)
        let directory = (final as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/." + (final as NSString).lastPathComponent + ".partial-" + tag
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: temporary) }
        parts.append(Part(temporary: temporary, final: final, descriptor: descriptor))
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BundleError) {
        size += Int64(bytes.count)
        var done = 0
        while done < bytes.count {
            if let partSize, parts[parts.count - 1].size == partSize { try openPart() }
            let room = partSize.map { Int($0 - parts[parts.count - 1].size) } ?? Int.max
            let piece = UnsafeRawBufferPointer(rebasing: bytes[done..<min(bytes.count, done + room)])
            var written = 0
            while written < piece.count {
                let count = Glibc.write(parts[parts.count - 1].descriptor, piece.baseAddress! + written, piece.count - written)
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: parts[parts.count - 1].temporary) }
                written += count
            }
            if partSize != nil { parts[parts.count - 1].hash.update(piece) }
            parts[parts.count - 1].size += Int64(piece.count)
            // start writing back what is written, as it is written (Linux begins write-back of a range told
            // DONTNEED): the fsync at the end then waits for little, the disk writes while the next bytes are read,
            // and a bundle of many gigabytes does not push everything else out of the page cache
            let pending = parts[parts.count - 1].size - parts[parts.count - 1].flushed
            if pending >= 32 << 20 {
                _ = posix_fadvise(parts[parts.count - 1].descriptor, off_t(parts[parts.count - 1].flushed), off_t(pending), POSIX_FADV_DONTNEED)
                parts[parts.count - 1].flushed += pending
            }
            done += piece.count
        }
    }

    func write(_ bytes: [UInt8]) throws(BundleError) {
        var failure: BundleError?
        bytes.withUnsafeBytes { buffer in
            do throws(BundleError) { try write(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Flushes every part to disk and renames it into place (the index last, for a split export). Only the parts
    /// are hashed (for the index): a single archive's bytes are hashed once, by entry, as they are written.
    func finish() throws(BundleError) {
        var index: [ArchiveSource.SplitIndex.Part] = []
        for position in parts.indices {
            guard fsync(parts[position].descriptor) == 0, close(parts[position].descriptor) == 0 else {
                throw BundleError("cannot write: \(String(cString: strerror(errno)))", file: parts[position].temporary)
            }
            parts[position].descriptor = -1
            let hash = partSize == nil ? "" : Hex.encode(parts[position].hash.finish())
            index.append(.init(name: (parts[position].final as NSString).lastPathComponent, size: parts[position].size, sha256: hash))
        }
        for part in parts where rename(part.temporary, part.final) != 0 {
            throw BundleError("cannot rename into place: \(String(cString: strerror(errno)))", file: part.final)
        }
        if partSize != nil {
            let document = ArchiveSource.SplitIndex(format: ArchiveSource.SplitIndex.currentFormat, size: size, parts: index)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do {
                try (try encoder.encode(document) + Data("\n".utf8)).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                throw BundleError("cannot write the index: \(error.localizedDescription)", file: output)
            }
        }
        parts = []
    }

    /// Removes whatever was written: the export failed.
    func abandon() {
        for part in parts {
            if part.descriptor >= 0 { close(part.descriptor) }
            unlink(part.temporary)
        }
        parts = []
    }

    deinit { abandon() }
}
