import Foundation
import Glibc
import Hashing

/// The bytes of an archive, read at any offset: one file, or the numbered parts a split export wrote, named by an
/// index (JSON) and read as one.
final class ArchiveSource: @unchecked Sendable {
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

    /// Opens `path`: an archive, or the index of one split into parts (each part's size checked against the index).
    init(_ path: String) throws(BundleError) {
        self.path = path
        let first = try Self.openFile(path)
        var status = stat()
        guard fstat(first, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(first)
            throw BundleError("not a regular file", file: path)
        }
        var lead: UInt8 = 0
        if pread(first, &lead, 1, 0) == 1, lead == UInt8(ascii: "{") {
            close(first)
            guard let data = FileManager.default.contents(atPath: path),
                  let index = try? JSONDecoder().decode(SplitIndex.self, from: data), index.format == SplitIndex.currentFormat else {
                throw BundleError("not a bundle, nor the index of a split bundle", file: path)
            }
            let directory = (path as NSString).deletingLastPathComponent
            var parts: [Part] = []
            var opened = false
            // every way out but the last closes the parts opened so far
            defer { if !opened { parts.forEach { close($0.descriptor) } } }
            var start: Int64 = 0
            for part in index.parts {
                guard !part.name.contains("/"), part.name != "..", part.name != "." else {
                    throw BundleError("the index names a part outside its directory: \(part.name)", file: path)
                }
                let partPath = (directory as NSString).appendingPathComponent(part.name)
                let descriptor = try Self.openFile(partPath)
                var partStatus = stat()
                fstat(descriptor, &partStatus)
                guard Int64(partStatus.st_size) == part.size else {
                    close(descriptor)
                    throw BundleError("part is \(partStatus.st_size) bytes, the index says \(part.size)", file: partPath)
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
            parts = [Part(path: path, size: Int64(status.st_size), sha256: nil, start: 0, descriptor: first)]
            size = Int64(status.st_size)
            isSplit = false
        }
    }

    deinit { parts.forEach { close($0.descriptor) } }

    private static func openFile(_ path: String) throws(BundleError) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BundleError("cannot read: \(String(cString: strerror(errno)))", file: path) }
        return descriptor
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
