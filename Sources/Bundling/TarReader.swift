/// One regular file of an archive: where its data lies.
public struct ArchiveEntry: Sendable, Equatable {
    public var path: String
    /// The data's first byte in the archive.
    public var offset: Int64
    public var size: Int64
}

/// Walks an archive's headers (skipping over the data), refusing anything a bundle never holds: links, devices,
/// directories, absolute or `..` paths, duplicates, GNU extensions, bad checksums, and an archive that ends early or
/// carries bytes after its end.
enum TarReader {
    static func entries(_ source: ArchiveSource) throws(BundleError) -> [ArchiveEntry] {
        var entries: [ArchiveEntry] = []
        var seen: Set<String> = []
        var offset: Int64 = 0
        var pax: [String: String]?
        func fail(_ message: String, _ entry: String? = nil) -> BundleError {
            let place = source.location(of: offset)
            return BundleError(message, file: place.file, entry: entry, offset: place.offset)
        }
        while true {
            let header = try source.bytes(at: offset, count: Tar.block, what: "a header (no end-of-archive marker)")
            if header.allSatisfy({ $0 == 0 }) {
                let second = try source.bytes(at: offset + Int64(Tar.block), count: Tar.block, what: "the end-of-archive marker")
                guard second.allSatisfy({ $0 == 0 }) else { throw fail("a zero block that is not the end of the archive") }
                guard pax == nil else { throw fail("a pax header with no entry after it") }
                try requireZeros(source, from: offset + 2 * Int64(Tar.block))
                return entries
            }
            guard checksumMatches(header) else { throw fail("header checksum does not match (the header was changed)") }
            guard Array(header[257..<263]) == Array("ustar".utf8) + [0], Array(header[263..<265]) == Array("00".utf8) else {
                throw fail("not a POSIX (ustar) header")
            }
            var name = text(header[0..<100])
            let prefix = text(header[345..<500])
            if !prefix.isEmpty { name = prefix + "/" + name }
            guard var size = octal(header[124..<136]) else { throw fail("size field is not a number", name) }
            let type = header[156]
            let dataStart = offset + Int64(Tar.block)
            switch type {
            case UInt8(ascii: "x"):
                guard pax == nil else { throw fail("two pax headers in a row", name) }
                guard size <= 65536 else { throw fail("a pax header of \(size) bytes", name) }
                let body = try source.bytes(at: dataStart, count: Int(size), what: "a pax header")
                guard let records = paxRecords(body) else { throw fail("malformed pax header", name) }
                pax = records
                offset = dataStart + size + Int64(Tar.padding(size))
                continue
            case UInt8(ascii: "0"), 0:
                break
            case UInt8(ascii: "1"): throw fail("a hard link (bundles hold regular files only)", name)
            case UInt8(ascii: "2"): throw fail("a symbolic link (bundles hold regular files only)", name)
            case UInt8(ascii: "3"), UInt8(ascii: "4"): throw fail("a device file (bundles hold regular files only)", name)
            case UInt8(ascii: "5"): throw fail("a directory entry (bundles hold regular files only)", name)
            case UInt8(ascii: "6"): throw fail("a FIFO (bundles hold regular files only)", name)
            case UInt8(ascii: "g"): throw fail("a global pax header (not written by bundles)", name)
            case UInt8(ascii: "L"), UInt8(ascii: "K"): throw fail("a GNU long-name entry (not POSIX)", name)
            default: throw fail("an entry of unknown type \(type)", name)
            }
            if let pax {
                if let path = pax["path"] { name = path }
                if let text = pax["size"] {
                    guard let value = Int64(text), value >= 0 else { throw fail("pax size is not a number", name) }
                    size = value
                }
            }
            pax = nil
            try checkPath(name, fail)
            guard seen.insert(name).inserted else { throw fail("a second entry with the same path", name) }
            guard dataStart + size + Int64(Tar.padding(size)) <= source.size else {
                throw fail("truncated: the entry needs \(size) bytes, the archive ends at byte \(source.size)", name)
            }
            entries.append(ArchiveEntry(path: name, offset: dataStart, size: size))
            offset = dataStart + size + Int64(Tar.padding(size))
        }
    }

    /// A relative path of plain components: no leading `/`, no `.` or `..`, no empty component, no backslash or NUL.
    static func checkPath(_ path: String, _ fail: (String, String?) -> BundleError) throws(BundleError) {
        guard !path.isEmpty else { throw fail("an entry with an empty path", path) }
        guard !path.hasPrefix("/") else { throw fail("an absolute path", path) }
        guard !path.contains("\\"), !path.contains("\0") else { throw fail("a path with a backslash or NUL", path) }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            guard component != ".." else { throw fail("a path that climbs out with '..'", path) }
            guard !component.isEmpty, component != "." else { throw fail("a path with an empty or '.' component", path) }
        }
    }

    /// Whatever follows the end-of-archive marker must be zeros (record padding).
    private static func requireZeros(_ source: ArchiveSource, from start: Int64) throws(BundleError) {
        var offset = start
        while offset < source.size {
            let count = Int(min(Int64(1 << 16), source.size - offset))
            let chunk = try source.bytes(at: offset, count: count, what: "the padding after the end")
            guard chunk.allSatisfy({ $0 == 0 }) else {
                let place = source.location(of: offset)
                throw BundleError("data after the end of the archive", file: place.file, offset: place.offset)
            }
            offset += Int64(count)
        }
    }

    static func checksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = octal(header[148..<156]) else { return false }
        let sum = header.enumerated().reduce(0) { $0 + Int((148..<156).contains($1.offset) ? UInt8(ascii: " ") : $1.element) }
        return Int64(sum) == stored
    }

    static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        let digits = field.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }.drop { $0 == UInt8(ascii: " ") }
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self), radix: 8)
    }

    static func paxRecords(_ body: [UInt8]) -> [String: String]? {
        var records: [String: String] = [:]
        var index = 0
        while index < body.count {
            guard let space = body[index...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: body[index..<space], as: UTF8.self)), length > 0, index + length <= body.count,
                  body[index + length - 1] == UInt8(ascii: "\n") else { return nil }
            let record = body[(space + 1)..<(index + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            records[String(decoding: record[..<equals], as: UTF8.self)] = String(decoding: record[(equals + 1)...], as: UTF8.self)
            index += length
        }
        return records
    }
}
