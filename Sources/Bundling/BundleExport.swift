import Foundation
import Glibc
import Hashing

/// A file to put in a bundle.
public struct BundleInput: Sendable {
    /// Where it goes in the archive.
    public var path: String
    /// The file on disk.
    public var source: String
    public var role: String
    public var executable: Bool

    public init(path: String, source: String, role: String, executable: Bool = false) {
        self.path = path
        self.source = source
        self.role = role
        self.executable = executable
    }
}

/// Writes a bundle in one pass: each file streamed into the archive and hashed as it is written, then the SBOM,
/// the manifest and its signature. The same inputs and time give the same bytes.
public enum BundleExport {
    /// How far an export has come: bytes written of the files' total.
    public typealias Progress = @Sendable (_ done: Int64, _ total: Int64) -> Void

    public struct Result: Sendable {
        public var manifest: BundleManifest
        public var size: Int64
    }

    /// Writes `inputs` and the stack's path into a bundle at `output` (parts of `partSize` bytes when given), its
    /// manifest carrying `sequence` (the signer's release number, 0...`BundleManifest.maxSequence`) and signed by `key`.
    public static func write(_ inputs: [BundleInput], stack: String, tools: [String: String], platform: String,
                             created epoch: Int64, sequence: Int64, key: Ed25519.PrivateKey?, to output: String, partSize: Int64? = nil,
                             progress: Progress = { _, _ in }) throws(BundleError) -> Result {
        guard (0...BundleManifest.maxSequence).contains(sequence) else {
            throw BundleError("the sequence \(sequence) is not from 0 to \(BundleManifest.maxSequence)", file: output)
        }
        let sorted = inputs.sorted { $0.path < $1.path }
        for (position, input) in sorted.enumerated() {
            try TarReader.checkPath(input.path) { message, entry in BundleError(message, entry: entry) }
            if position > 0, sorted[position - 1].path == input.path { throw BundleError("two files for one path", entry: input.path) }
        }
        var total: Int64 = 0
        for input in sorted { total += try regularFileSize(input.source) }
        let sink = try ArchiveSink(output: output, partSize: partSize)
        var files: [BundleManifest.File] = []
        var done: Int64 = 0
        for input in sorted {
            let (size, digest) = try copy(input, into: sink, mtime: epoch) { written in progress(done + written, total) }
            done += size
            files.append(.init(path: input.path, role: input.role, size: size, sha256: digest))
        }
        let created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
        let provisional = BundleManifest.identity(of: files)
        let sbom = try SBOM.document(files: files, sources: Dictionary(uniqueKeysWithValues: sorted.map { ($0.path, $0.source) }),
                                 tools: tools, created: created, bundleID: provisional)
        try add(SBOM.path, sbom, into: sink, mtime: epoch)
        files.append(.init(path: SBOM.path, role: "sbom", size: Int64(sbom.count), sha256: SHA256.hex(sbom)))
        let manifest = BundleManifest(format: BundleManifest.currentFormat, bundleID: BundleManifest.identity(of: files), sequence: sequence,
                                      created: created, tools: tools, platform: platform, stack: stack, files: files)
        let manifestBytes = try manifest.encoded()
        try add(BundleManifest.path, manifestBytes, into: sink, mtime: epoch)
        if let key {
            let signature = ManifestSignature(algorithm: "ed25519", key: key.publicKey.fingerprint,
                                              signature: Data(key.sign(manifestBytes)).base64EncodedString())
            try add(BundleManifest.signaturePath, try signature.encoded(), into: sink, mtime: epoch)
        }
        try sink.write(Tar.endOfArchive)
        try sink.finish()
        return Result(manifest: manifest, size: sink.size)
    }

    /// The size of a file to export, before anything is written: one that is not a regular file is refused here.
    private static func regularFileSize(_ path: String) throws(BundleError) -> Int64 {
        do {
            let (descriptor, size) = try RegularFile.open(path)
            close(descriptor)
            return size
        } catch {
            throw BundleError(error)
        }
    }

    private static func add(_ path: String, _ bytes: [UInt8], into sink: ArchiveSink, mtime: Int64) throws(BundleError) {
        try sink.write(Tar.headers(path: path, size: Int64(bytes.count), mode: 0o644, mtime: mtime))
        try sink.write(bytes + [UInt8](repeating: 0, count: Tar.padding(Int64(bytes.count))))
    }

    /// Streams one file into the archive, hashing it on the way; a file that changes size meanwhile is refused.
    private static func copy(_ input: BundleInput, into sink: ArchiveSink, mtime: Int64,
                             _ written: (Int64) -> Void) throws(BundleError) -> (Int64, String) {
        let descriptor: Int32, size: Int64
        do {
            (descriptor, size) = try RegularFile.open(input.source)
        } catch {
            throw BundleError(error)
        }
        defer { close(descriptor) }
        try sink.write(Tar.headers(path: input.path, size: size, mode: input.executable ? 0o755 : 0o644, mtime: mtime))
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_SEQUENTIAL)
        // the disk reads the next chunks while this one is hashed and written
        let reader = ReadAhead(descriptor: descriptor)
        defer { reader.finish() }
        let hash = SHA256Stream()
        var done: Int64 = 0
        while true {
            let piece: UnsafeRawBufferPointer
            do {
                piece = try reader.chunkBytes()
            } catch {
                throw BundleError(error.message, file: input.source, offset: done)
            }
            if piece.isEmpty { break }
            guard done + Int64(piece.count) <= size else { throw BundleError("grew while it was being exported", file: input.source) }
            hash.update(piece)
            try sink.write(piece)
            reader.release()
            done += Int64(piece.count)
            written(done)
        }
        guard done == size else { throw BundleError("shrank while it was being exported", file: input.source) }
        try sink.write([UInt8](repeating: 0, count: Tar.padding(size)))
        return (size, Hex.encode(hash.finish()))
    }
}
