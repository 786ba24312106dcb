import Foundation

extension JSONBody {
    /// How deep a request body may nest arrays and objects: far beyond any request the API accepts (a message list
    /// is a few levels; a schema the compiler accepts nests at most 64 schemas, about 130 levels with the objects
    /// between them), and shallow enough that nothing walking a body recursively comes near its thread's stack.
    static let maxDepth = 256

    /// The request body as a JSON object, or a 400 that says why not: nested too deeply (checked before parsing),
    /// not JSON, or JSON but not an object.
    static func object(_ body: [UInt8]) throws(APIError) -> [String: Any] {
        if let depth = depthExceeding(maxDepth, body) {
            throw .invalid("the body nests arrays and objects \(depth) levels deep; at most \(maxDepth) are accepted", param: nil)
        }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw .invalid("the body is not valid JSON", param: nil)
        }
        guard let object = parsed as? [String: Any] else { throw .invalid("the body is not a JSON object", param: nil) }
        return object
    }

    /// The first nesting depth past `limit` the bytes reach (brackets inside strings do not count), or nil.
    static func depthExceeding(_ limit: Int, _ bytes: [UInt8]) -> Int? {
        var depth = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return depth }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }
}
