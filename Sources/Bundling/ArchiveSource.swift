import Foundation
import Glibc
import Hashing
import TextSafety

/// The bytes of an archive, read at any offset: one file, or the numbered parts a split export wrote, named by an
/// index (JSON) and read as one.
final class ArchiveSource: Sendable {
    struct Part {
        var path: String
        var size: Int64
        /// From the index; nil for a single-file archive.
        var sha256: String?
        var start: Int64
        var descriptor: Int32
    }

    /// The index a split export writes beside its parts.
    struct SplitIndex: Codable {
        static let currentFormat = "deploy.bundle-parts/1"
        struct Part: Codable {
            var name: String
            var size: Int64
            var sha256: String
        }
        var format: String
        var size: Int64
        var parts: [Part]
    }

    let path: String
    let parts: [Part]
    let size: Int64
    /// Whether it came as parts named by an index.
    let isSplit: Bool

    /// The largest index a split export writes is a few KiB; anything past this is not one.
    static let indexLimit = 16 << 20

    /// Opens `path`: an archive, or the index of one split into parts (each part's size checked against the index).
    /// The archive and every part must be regular files: anything else is refused before it is opened.
    init(_ path: String) throws(BundleError) {
        self.path = path
        let (first, firstSize) = try Self.openFile(path)
        var lead: UInt8 = 0
        if pread(first, &lead, 1, 0) == 1, lead == UInt8(ascii: "{") {
            // the index is read from the descriptor just checked, not opened again by name
            let data: [UInt8]
            do {
                defer { close(first) }
                data = try RegularFile.contents(of: first, path: path, size: firstSize, limit: Self.indexLimit)
            } catch {
                throw BundleError(error)
            }
            guard let index = try? JSONDecoder().decode(SplitIndex.self, from: Data(data)), index.format == SplitIndex.currentFormat else {
                throw BundleError("not a bundle, nor the index of a split bundle", file: path)
            }
            let directory = (path as NSString).deletingLastPathComponent
            var parts: [Part] = []
            var opened = false
            // every way out but the last closes the parts opened so far
            defer { if !opened { parts.forEach { close($0.descriptor) } } }
            var start: Int64 = 0
            for part in index.parts {
                guard !part.name.isEmpty, !part.name.contains("/"), !part.name.contains("\0"), part.name != "..", part.name != "." else {
                    throw BundleError("the index names a part outside its directory: '\(SafeText.quoted(part.name, limit: BundleError.quoteLimit))'",
                                      file: path)
                }
                let partPath = (directory as NSString).appendingPathComponent(part.name)
                let (descriptor, size) = try Self.openFile(partPath)
                guard size == part.size else {
                    close(descriptor)
                    throw BundleError("part is \(size) bytes, the index says \(part.size)", file: partPath)
                }
                parts.append(Part(path: partPath, size: part.size, sha256: part.sha256, start: start, descriptor: descriptor))
                start += part.size
            }
            guard start == index.size else {
                throw BundleError("the parts hold \(start) bytes, the index says \(index.size)", file: path)
            }
            opened = true
            self.parts = parts
            size = start
            isSplit = true
        } else {
            parts = [Part(path: path, size: firstSize, sha256: nil, start: 0, descriptor: first)]
            size = firstSize
            isSplit = false
        }
    }

    deinit { parts.forEach { close($0.descriptor) } }

    /// Opens a regular file only: a FIFO given as a bundle or named as a part is refused, never waited on.
    private static func openFile(_ path: String) throws(BundleError) -> (descriptor: Int32, size: Int64) {
        do {
            return try RegularFile.open(path)
        } catch {
            throw BundleError(error)
        }
    }

    /// Fills `buffer` from `offset`, across parts; returns how many bytes there were (fewer only at the end).
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(BundleError) -> Int {
        var done = 0
        while done < buffer.count, offset + Int64(done) < size {
            let position = offset + Int64(done)
            guard let part = parts.last(where: { $0.start <= position }) else { break }
            let within = position - part.start
            let wanted = min(buffer.count - done, Int(part.size - within))
            let count = pread(part.descriptor, buffer.baseAddress! + done, wanted, off_t(within))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw BundleError("cannot read: \(String(cString: strerror(errno)))", file: part.path, offset: position) }
            done += count
        }
        return done
    }

    /// Where byte `offset` of the archive lies: in a split bundle, its part and the offset within it (an error names
    /// the file to look at), else the bundle itself.
    func location(of offset: Int64) -> (file: String, offset: Int64) {
        guard isSplit, let part = parts.last(where: { $0.start <= offset }) else { return (path, offset) }
        return (part.path, offset - part.start)
    }

    /// `count` bytes from `offset`, or an error naming what ends too early.
    func bytes(at offset: Int64, count: Int, what: String) throws(BundleError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var failure: BundleError?
        let got = result.withUnsafeMutableBytes { buffer -> Int in
            do throws(BundleError) { return try read(at: offset, into: buffer) } catch { failure = error; return 0 }
        }
        if let failure { throw failure }
        guard got == count else { throw BundleError("truncated: the archive ends at byte \(size), inside \(what)", file: path, offset: offset) }
        return result
    }
}
