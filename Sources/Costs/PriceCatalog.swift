import Foundation
import Stack

/// Where a price came from: every number in an answer can be traced to its source and date.
public struct PriceSource: Sendable, Codable, Equatable {
    public var source: String
    public var date: String
}

/// API, instance and infrastructure prices (Templates/pricing.json5, or the user's own file of the same shape).
public struct PriceCatalog: Sendable {
    public struct APIModel: Sendable, Equatable {
        public var name: String
        public var inputPerMillion: Double
        public var outputPerMillion: Double
        public var origin: PriceSource
    }

    public struct Instance: Sendable, Equatable {
        public var name: String
        public var hourly: Double
        public var gpus: Int
        public var gpu: String
        public var origin: PriceSource
    }

    public struct Item: Sendable, Equatable {
        public var name: String
        public var price: Double
        public var origin: PriceSource
    }

    public var file: String
    public var currency: String
    public var apiModels: [String: APIModel]
    public var instances: [String: Instance]
    public var infrastructure: [String: Item]

    /// Reads and checks a catalog; every error names file:line:column.
    public static func load(_ path: String) throws(StackError) -> PriceCatalog {
        try parse(try SourceFile.text(path, what: "price catalog"), file: path)
    }

    public static func parse(_ text: String, file: String) throws(StackError) -> PriceCatalog {
        let root = try JSON5Parser.parse(text, file: file)
        let fields = try ObjectFields(root, allowed: ["currency", "api_models", "instances", "infrastructure"], context: "price catalog")
        var catalog = PriceCatalog(file: file, currency: try fields.string("currency") ?? "USD", apiModels: [:], instances: [:],
                                   infrastructure: [:])
        for member in try fields.object("api_models") {
            let entry = try ObjectFields(member.value, allowed: ["input_per_million", "output_per_million", "source", "date"],
                                         context: "API model '\(member.key)'")
            catalog.apiModels[member.key] = APIModel(name: member.key, inputPerMillion: try price(entry, "input_per_million"),
                                                     outputPerMillion: try price(entry, "output_per_million"), origin: try origin(entry))
        }
        for member in try fields.object("instances") {
            let entry = try ObjectFields(member.value, allowed: ["hourly", "gpus", "gpu", "source", "date"], context: "instance '\(member.key)'")
            catalog.instances[member.key] = Instance(name: member.key, hourly: try price(entry, "hourly"), gpus: try entry.int("gpus") ?? 0,
                                                     gpu: try entry.string("gpu") ?? "", origin: try origin(entry))
        }
        for member in try fields.object("infrastructure") {
            let entry = try ObjectFields(member.value, allowed: ["price", "source", "date"], context: "infrastructure item '\(member.key)'")
            catalog.infrastructure[member.key] = Item(name: member.key, price: try price(entry, "price", allowZero: true), origin: try origin(entry))
        }
        return catalog
    }

    private static func price(_ entry: ObjectFields, _ key: String, allowZero: Bool = false) throws(StackError) -> Double {
        let node = try entry.required(key)
        let value: Double
        switch node.kind {
        case .int(let number): value = Double(number)
        case .double(let number): value = number
        default: throw StackError("'\(key)' must be a number, found \(node.kindName)", at: node.location)
        }
        guard value.isFinite, value > 0 || (allowZero && value == 0) else {
            let shown = value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
            throw StackError("'\(key)' must be \(allowZero ? "zero or more" : "more than zero"), not \(shown)", at: node.location)
        }
        return value
    }

    private static func origin(_ entry: ObjectFields) throws(StackError) -> PriceSource {
        PriceSource(source: try entry.requiredString("source"), date: try entry.requiredString("date"))
    }

    /// An infrastructure price, or zero when the catalog has no such item.
    public func infrastructurePrice(_ name: String) -> Double { infrastructure[name]?.price ?? 0 }
}
