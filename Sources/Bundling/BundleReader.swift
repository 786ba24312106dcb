import Foundation
import Glibc
import Hashing
import TextSafety

/// A bundle whose signature and manifest have been checked against its entries (names, sizes, nothing missing or
/// extra); `BundleReader.scan` then checks every byte.
public struct OpenedBundle: Sendable {
    public var path: String
    public var manifest: BundleManifest
    /// The SHA-256 (lower-case hex) of manifest.json's bytes, the bytes the signature covers: one export's identity
    /// (two exports of the same files share a `bundleID`, not this).
    public var manifestSHA256: String
    /// The fingerprint of the key the signature verified with (`Ed25519.PublicKey.fingerprint`), computed from the
    /// key given, never read from the archive; nil when no key was given and nothing was verified.
    public var signer: String?
    /// The fingerprint manifest.sig claims: text from the archive, true only if it equals `signer`. Quote it
    /// (`SafeText.quoted`) before showing it.
    public var claimedSigner: String
    /// Every entry of the archive, in archive order.
    public var entries: [ArchiveEntry]
    /// Whether it came as parts named by an index.
    public var isSplit: Bool
    public var size: Int64

    public func entry(_ path: String) -> ArchiveEntry? { entries.first { $0.path == path } }
}

/// Reads and checks bundles: signature, then manifest, then (streaming, every byte once) each entry's size and
/// SHA-256, and each part's for a split bundle.
public enum BundleReader {
    /// The archive's structure, manifest and signature, without reading the files' data. The signature must verify
    /// with `key`; with no key, nothing is verified and `signer` is nil (only `claimedSigner`, the archive's word).
    public static func open(_ path: String, key: Ed25519.PublicKey?) throws(BundleError) -> OpenedBundle {
        let source = try ArchiveSource(path)
        let entries = try TarReader.entries(source)
        func fail(_ message: String, _ entry: String? = nil) -> BundleError { BundleError(message, file: path, entry: entry) }
        guard let manifestEntry = entries.first(where: { $0.path == BundleManifest.path }), manifestEntry.size <= 64 << 20 else {
            throw fail("no manifest.json: not a deploy bundle")
        }
        let manifestBytes = try source.bytes(at: manifestEntry.offset, count: Int(manifestEntry.size), what: "manifest.json")
        guard let signatureEntry = entries.first(where: { $0.path == BundleManifest.signaturePath }) else {
            throw fail("the bundle is not signed (no manifest.sig)")
        }
        guard signatureEntry.size <= 4096 else {
            throw fail("manifest.sig is \(signatureEntry.size) bytes: not a signature", BundleManifest.signaturePath)
        }
        let signatureBytes = try source.bytes(at: signatureEntry.offset, count: Int(signatureEntry.size), what: "manifest.sig")
        guard let signature = try? JSONDecoder().decode(ManifestSignature.self, from: Data(signatureBytes)),
              signature.algorithm == "ed25519", let raw = Data(base64Encoded: signature.signature) else {
            throw fail("manifest.sig is not an Ed25519 signature", BundleManifest.signaturePath)
        }
        if let key {
            guard key.verify(manifestBytes, signature: Array(raw)) else {
                // the claimed key is archive text: quoted and cut, never shown as it stands
                let who = signature.key == key.fingerprint ? "the manifest was changed after it was signed"
                    : "not by the key given (\(key.fingerprint)); the bundle claims "
                        + "'\(SafeText.quoted(signature.key, limit: BundleError.quoteLimit))' as its signer"
                throw fail("the signature does not verify: \(who)", BundleManifest.path)
            }
        }
        // the format first, so that a bundle of another format is named as such rather than as a bad manifest
        guard let probe = try? JSONDecoder().decode(FormatProbe.self, from: Data(manifestBytes)) else {
            throw fail("manifest.json is not a bundle manifest", BundleManifest.path)
        }
        guard probe.format == BundleManifest.currentFormat else {
            throw fail("bundle format '\(SafeText.quoted(probe.format, limit: BundleError.quoteLimit))', not \(BundleManifest.currentFormat): "
                       + "export it again with this deploy")
        }
        let manifest: BundleManifest
        do {
            manifest = try JSONDecoder().decode(BundleManifest.self, from: Data(manifestBytes))
        } catch {
            throw fail("manifest.json is not a bundle manifest", BundleManifest.path)
        }
        guard (0...BundleManifest.maxSequence).contains(manifest.sequence) else {
            throw fail("the manifest's sequence \(manifest.sequence) is not from 0 to \(BundleManifest.maxSequence)", BundleManifest.path)
        }
        let listed = Dictionary(manifest.files.map { ($0.path, $0) }) { first, _ in first }
        guard listed.count == manifest.files.count else { throw fail("the manifest lists a path twice", BundleManifest.path) }
        let stored = Set(entries.map(\.path))
        for file in manifest.files where !stored.contains(file.path) { throw fail("missing: in the manifest, not in the archive", file.path) }
        for entry in entries where entry.path != BundleManifest.path && entry.path != BundleManifest.signaturePath {
            guard let file = listed[entry.path] else { throw fail("extra: in the archive, not in the manifest", entry.path) }
            guard file.size == entry.size else { throw fail("\(entry.size) bytes, the manifest says \(file.size)", entry.path) }
        }
        return OpenedBundle(path: path, manifest: manifest, manifestSHA256: SHA256.hex(manifestBytes), signer: key?.fingerprint,
                            claimedSigner: signature.key, entries: entries, isSplit: source.isSplit, size: source.size)
    }

    private struct FormatProbe: Decodable {
        var format: String
    }

    /// The bytes of a small entry (a stack, a template, the SBOM), read as the archive holds them: check them with
    /// `scan` first, or trust only what the signature covers.
    public static func contents(of entry: ArchiveEntry, in bundle: OpenedBundle) throws(BundleError) -> [UInt8] {
        try ArchiveSource(bundle.path).bytes(at: entry.offset, count: Int(entry.size), what: entry.path)
    }

    /// The bytes of the small file at `path` (the SBOM), checked against the SHA-256 the manifest lists for it: with a
    /// verified signature, exactly what the signer wrote. Nil when the bundle holds no such file.
    public static func checkedContents(of path: String, in bundle: OpenedBundle, limit: Int64 = 64 << 20) throws(BundleError) -> [UInt8]? {
        guard let entry = bundle.entry(path), let listed = bundle.manifest.files.first(where: { $0.path == path }) else { return nil }
        guard entry.size <= limit else {
            throw BundleError("\(entry.size) bytes, more than the \(limit) read here", file: bundle.path, entry: path)
        }
        let bytes = try contents(of: entry, in: bundle)
        guard SHA256.hex(bytes) == listed.sha256 else {
            throw BundleError("SHA-256 differs from the manifest (the file was changed)", file: bundle.path, entry: path)
        }
        return bytes
    }

    /// Reads the whole archive once, in order: hands each entry's data to `body` as it passes (entry, bytes), checks
    /// each entry's SHA-256 against the manifest and, for a split bundle, each part's against the index.
    public static func scan(_ bundle: OpenedBundle, progress: @Sendable (Int64, Int64) -> Void = { _, _ in },
                            _ body: (ArchiveEntry, UnsafeRawBufferPointer) throws(BundleError) -> Void = { _, _ in }) throws(BundleError) {
        let source = try ArchiveSource(bundle.path)
        guard source.size == bundle.size else { throw BundleError("changed since it was opened", file: bundle.path) }
        let listed = Dictionary(bundle.manifest.files.map { ($0.path, $0.sha256) }) { first, _ in first }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var partIndex = 0
        var partHash = SHA256Stream()
        var entryIndex = 0
        var entryHash = SHA256Stream()
        var offset: Int64 = 0
        while offset < source.size {
            let count = try source.read(at: offset, into: buffer)
            guard count > 0 else { throw BundleError("truncated while reading", file: bundle.path, offset: offset) }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if source.isSplit {
                // a part boundary may fall inside this chunk
                var position = 0
                while position < count {
                    let part = source.parts[partIndex]
                    let take = min(count - position, Int(part.start + part.size - (offset + Int64(position))))
                    partHash.update(UnsafeRawBufferPointer(rebasing: bytes[position..<(position + take)]))
                    position += take
                    if offset + Int64(position) == part.start + part.size {
                        guard Hex.encode(partHash.finish()) == part.sha256 else {
                            throw BundleError("part's SHA-256 differs from the index (the part was changed)", file: part.path)
                        }
                        partHash = SHA256Stream()
                        partIndex += 1
                    }
                }
            }
            // the entries' data within this chunk, in order
            let end = offset + Int64(count)
            while entryIndex < bundle.entries.count, bundle.entries[entryIndex].offset < end {
                let entry = bundle.entries[entryIndex]
                let from = max(entry.offset, offset)
                let to = min(entry.offset + entry.size, end)
                if to > from {
                    let piece = UnsafeRawBufferPointer(rebasing: bytes[Int(from - offset)..<Int(to - offset)])
                    entryHash.update(piece)
                    try body(entry, piece)
                }
                guard entry.offset + entry.size <= end else { break }
                let digest = Hex.encode(entryHash.finish())
                if let expected = listed[entry.path], digest != expected {
                    throw BundleError("SHA-256 differs from the manifest (the file was changed)", file: bundle.path, entry: entry.path)
                }
                entryHash = SHA256Stream()
                entryIndex += 1
            }
            offset = end
            progress(offset, source.size)
        }
    }
}
