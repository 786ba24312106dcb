/// Why a bundle could not be made, read or trusted: what failed, and where (the archive, the entry, the offset).
public struct BundleError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The archive or file it concerns.
    public var file: String?
    /// The entry of the archive, where one is at fault.
    public var entry: String?
    /// The byte offset in the archive, where it is known.
    public var offset: Int64?

    public init(_ message: String, file: String? = nil, entry: String? = nil, offset: Int64? = nil) {
        self.message = message
        self.file = file
        self.entry = entry
        self.offset = offset
    }

    public var description: String {
        var place = file ?? ""
        if let entry { place += place.isEmpty ? entry : ": \(entry)" }
        if let offset { place += " (byte \(offset))" }
        return place.isEmpty ? message : "\(place): \(message)"
    }
}
