/// POSIX tar (ustar with pax extended headers), as bundles write and read it: regular files only, every header
/// deterministic (owner 0, fixed mode and time), long names and sizes of 8 GiB and more in a pax header.
enum Tar {
    static let block = 512
    /// The largest size a ustar header holds in its 11 octal digits (8 GiB - 1).
    static let ustarMaxSize: Int64 = 0o77777777777
    static let endOfArchive = [UInt8](repeating: 0, count: 2 * block)

    /// Zero bytes after `size` bytes of data, up to the next block.
    static func padding(_ size: Int64) -> Int { Int((Int64(block) - size % Int64(block)) % Int64(block)) }

    /// The header blocks for a regular file: a pax header first when the name or the size does not fit ustar.
    static func headers(path: String, size: Int64, mode: Int, mtime: Int64) -> [UInt8] {
        let name = Array(path.utf8)
        var records: [(String, String)] = []
        let fitsName = name.count <= 100 && name.allSatisfy { $0 < 0x80 }
        if !fitsName { records.append(("path", path)) }
        if size > ustarMaxSize { records.append(("size", String(size))) }
        var out: [UInt8] = []
        if !records.isEmpty {
            let body = records.flatMap { paxRecord($0.0, $0.1) }
            let label = "PaxHeaders/" + String(decoding: name.suffix(80).filter { $0 < 0x80 && $0 != UInt8(ascii: "/") }, as: UTF8.self)
            out += ustar(name: Array(label.utf8.prefix(100)), size: Int64(body.count), mode: 0o644, mtime: mtime, type: UInt8(ascii: "x"))
            out += body + [UInt8](repeating: 0, count: padding(Int64(body.count)))
        }
        out += ustar(name: fitsName ? name : Array(name.suffix(100)).filter { $0 < 0x80 }, size: size > ustarMaxSize ? 0 : size,
                     mode: mode, mtime: mtime, type: UInt8(ascii: "0"))
        return out
    }

    /// `"<length> key=value\n"`, the length counting its own digits.
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let rest = " \(key)=\(value)\n".utf8.count
        var length = rest + 1
        while String(length).count + rest != length { length = String(length).count + rest }
        return Array("\(length) \(key)=\(value)\n".utf8)
    }

    static func ustar(name: [UInt8], size: Int64, mode: Int, mtime: Int64, type: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: block)
        func put(_ bytes: [UInt8], at offset: Int) { header.replaceSubrange(offset..<(offset + bytes.count), with: bytes) }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(Int64(mode), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)
        header[156] = type
        put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
        put(octal(0, width: 8), at: 329)
        put(octal(0, width: 8), at: 337)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(Array(String(format6(sum)).utf8) + [0, UInt8(ascii: " ")], at: 148)
        return header
    }

    private static func format6(_ sum: Int) -> String {
        let digits = String(sum, radix: 8)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
