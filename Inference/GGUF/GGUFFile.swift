import Foundation
import TextSafety
#if canImport(Glibc)
import Glibc
import Diagnostics
#endif

/// A GGUF file that cannot be read: what is wrong and at which byte.
public struct GGUFError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var offset: Int?
    public var message: String

    /// A problem with the file at `path`, at byte `offset` when it is known.
    public init(path: String, offset: Int? = nil, message: String) {
        self.path = path
        self.offset = offset
        self.message = message
    }

    public var description: String {
        offset.map { "\(path): at byte \($0): \(message)" } ?? "\(path): \(message)"
    }
}

/// One tensor's description: where its data is and how it is stored.
public struct TensorInfo: Sendable {
    public var name: String
    /// ggml order: the first dimension is the fastest-moving (a row's length).
    public var dimensions: [Int]
    public var type: TensorType
    /// Offset from the start of the data section.
    public var offset: Int
    public var elementCount: Int
    public var byteCount: Int
}

/// A GGUF file (version 2 or 3), memory-mapped: the header, metadata and tensor table are parsed and checked on
/// open; tensor data stays in the mapping and is read in place.
public final class GGUFFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and unmapped only in deinit, when nothing else can hold it
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let keys: [String]
    public let tensors: [TensorInfo]
    public let alignment: Int
    /// Where tensor data starts in the file.
    public let dataOffset: Int
    private let base: UnsafeRawPointer
    private let size: Int

    /// Maps and parses `path`; a malformed file is a `GGUFError`, never a crash.
    public static func open(_ path: String) throws(GGUFError) -> GGUFFile {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw GGUFError(path: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw GGUFError(path: path, message: "cannot stat") }
        let size = Int(status.st_size)
        guard size >= 24 else { throw GGUFError(path: path, offset: 0, message: "too short to be a GGUF file (\(size) bytes)") }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapping != MAP_FAILED else {
            throw GGUFError(path: path, message: "cannot map: \(String(cString: strerror(errno)))")
        }
        do {
            return try GGUFFile(path: path, base: UnsafeRawPointer(mapping), size: size)
        } catch {
            munmap(mapping, size)
            throw error
        }
    }

    /// Parses a GGUF image already in memory (for tests); the buffer must outlive the file.
    init(path: String, base: UnsafeRawPointer, size: Int, owned: Bool = true) throws(GGUFError) {
        var reader = GGUFReader(path: path, base: base, size: size)
        guard try reader.u32() == 0x4655_4747 else { throw reader.error("not a GGUF file: bad magic", at: 0) }
        let version = try reader.u32()
        guard version == 2 || version == 3 else {
            throw reader.error("GGUF version \(version) is not supported (2 and 3 are)", at: 4)
        }
        let tensorCount = try reader.count("tensor count", minimumBytesEach: 24)
        let keyCount = try reader.count("metadata count", minimumBytesEach: 12)
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0..<keyCount {
            let at = reader.offset
            let key = try reader.string()
            guard metadata[key] == nil else { throw reader.error("duplicate metadata key '\(SafeText.quoted(key))'", at: at) }
            metadata[key] = try reader.value(type: try reader.u32(), depth: 0)
            keys.append(key)
        }
        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard let number = value.intValue, number > 0, number & (number - 1) == 0, number <= 1 << 20 else {
                throw reader.error("general.alignment must be a power of two, not \(value)", at: nil)
            }
            alignment = number
        }
        var infos: [(TensorInfo, Int)] = []
        var names: Set<String> = []
        for _ in 0..<tensorCount {
            let at = reader.offset
            let name = try reader.string()
            guard names.insert(name).inserted else { throw reader.error("duplicate tensor '\(SafeText.quoted(name))'", at: at) }
            let dimensionCount = Int(try reader.u32())
            guard (1...4).contains(dimensionCount) else { throw reader.error("tensor '\(SafeText.quoted(name))' has \(dimensionCount) dimensions (1 to 4)", at: at) }
            var dimensions: [Int] = []
            var elements = 1
            for _ in 0..<dimensionCount {
                let dimension = try reader.u64()
                guard dimension > 0, dimension < 1 << 40 else { throw reader.error("tensor '\(SafeText.quoted(name))' has a dimension of \(dimension)", at: at) }
                dimensions.append(Int(dimension))
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(dimension))
                guard !overflow, product < 1 << 48 else { throw reader.error("tensor '\(SafeText.quoted(name))' is impossibly large", at: at) }
                elements = product
            }
            let typeNumber = try reader.u32()
            guard let type = TensorType(rawValue: typeNumber) else {
                throw reader.error("tensor '\(SafeText.quoted(name))' has unknown type \(typeNumber)", at: at)
            }
            let (blockElements, blockBytes) = type.block
            guard dimensions[0] % blockElements == 0 else {
                throw reader.error("tensor '\(SafeText.quoted(name))': a row of \(dimensions[0]) is not a whole number of \(type.name) blocks of \(blockElements)", at: at)
            }
            let offset = try reader.u64()
            guard offset < UInt64(size), Int(offset) % alignment == 0 else {
                throw reader.error("tensor '\(SafeText.quoted(name))' has offset \(offset), outside the file or not aligned to \(alignment)", at: at)
            }
            infos.append((TensorInfo(name: name, dimensions: dimensions, type: type, offset: Int(offset), elementCount: elements,
                                     byteCount: elements / blockElements * blockBytes), at))
        }
        let dataOffset = (reader.offset + alignment - 1) / alignment * alignment
        for (info, at) in infos where dataOffset + info.offset + info.byteCount > size {
            throw reader.error("tensor '\(SafeText.quoted(info.name))' (\(info.byteCount) bytes at \(info.offset)) runs past the end of the file", at: at)
        }
        self.path = path
        self.version = version
        self.metadata = metadata
        self.keys = keys
        self.tensors = infos.map(\.0)
        self.alignment = alignment
        self.dataOffset = dataOffset
        self.base = base
        self.size = owned ? size : 0
    }

    deinit {
        if size > 0 { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Whether the tensors lie in a read-only mapping of the file (this object's own), not in memory given to it.
    public var isMapped: Bool { size > 0 }

    /// Gives back the pages of the mapping that have been read (`MADV_DONTNEED`): they are read again from the file
    /// should anything touch them. For after load, once the tensors used at run time are copied out.
    public func releasePages() {
        if size > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base), size, MADV_DONTNEED) }
    }

    public func tensor(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// The bytes of a tensor, in place in the mapping.
    public func data(_ tensor: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + dataOffset + tensor.offset, count: tensor.byteCount)
    }

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func float(_ key: String) -> Double? { metadata[key]?.floatValue }
}

/// Bounds-checked little-endian reads over the mapped file.
struct GGUFReader {
    let path: String
    let base: UnsafeRawPointer
    let size: Int
    var offset = 0

    func error(_ message: String, at offset: Int?) -> GGUFError { GGUFError(path: path, offset: offset, message: message) }

    private mutating func take(_ count: Int) throws(GGUFError) -> UnsafeRawPointer {
        guard count >= 0, count <= size - offset else {
            throw error("truncated: needs \(count) more bytes, \(size - offset) left", at: offset)
        }
        defer { offset += count }
        return base + offset
    }

    mutating func u8() throws(GGUFError) -> UInt8 { try take(1).load(as: UInt8.self) }
    mutating func u16() throws(GGUFError) -> UInt16 { UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self)) }
    mutating func u32() throws(GGUFError) -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }
    mutating func u64() throws(GGUFError) -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }

    /// A count of items that each take at least `minimumBytesEach`: more than the file can hold is an error.
    mutating func count(_ what: String, minimumBytesEach: Int) throws(GGUFError) -> Int {
        let at = offset
        let value = try u64()
        guard value <= UInt64((size - offset) / max(1, minimumBytesEach)) else {
            throw error("\(what) \(value) is more than the file can hold", at: at)
        }
        return Int(value)
    }

    mutating func string() throws(GGUFError) -> String {
        let length = try count("string length", minimumBytesEach: 1)
        let bytes = UnsafeRawBufferPointer(start: try take(length), count: length)
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func value(type raw: UInt32, depth: Int) throws(GGUFError) -> GGUFValue {
        let at = offset
        guard let type = GGUFValueType(rawValue: raw) else { throw error("unknown metadata value type \(raw)", at: at) }
        switch type {
        case .uint8: return .uint8(try u8())
        case .int8: return .int8(Int8(bitPattern: try u8()))
        case .uint16: return .uint16(try u16())
        case .int16: return .int16(Int16(bitPattern: try u16()))
        case .uint32: return .uint32(try u32())
        case .int32: return .int32(Int32(bitPattern: try u32()))
        case .uint64: return .uint64(try u64())
        case .int64: return .int64(Int64(bitPattern: try u64()))
        case .float32: return .float32(Float(bitPattern: try u32()))
        case .float64: return .float64(Double(bitPattern: try u64()))
        case .bool:
            let byte = try u8()
            guard byte <= 1 else { throw error("a bool must be 0 or 1, not \(byte)", at: at) }
            return .bool(byte == 1)
        case .string: return .string(try string())
        case .array:
            guard depth < 8 else { throw error("arrays nested more than 8 deep", at: at) }
            let elementType = try u32()
            let count = try self.count("array length", minimumBytesEach: elementType == GGUFValueType.array.rawValue ? 12 : 1)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(type: elementType, depth: depth + 1)) }
            return .array(items)
        }
    }
}

extension GGUFError: UserFacingError {
    public var failureKind: FailureKind { .usage }
}
