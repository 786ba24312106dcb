import Costs
import Foundation
import Stack
import TextSafety

/// An instance type that does not exist fails only at launch, after the network, keys and storage are built; the
/// price catalog beside the templates lists the types `deploy` knows, and the stack's `allow.instance_types`
/// admits newer ones.
enum InstanceTypeCheck {
    static func check(_ configuration: StackConfiguration, expanded: ExpandedStack) throws {
        let catalogPath = (configuration.templatesDirectory as NSString).appendingPathComponent("pricing.json5")
        guard FileManager.default.fileExists(atPath: catalogPath) else { return }
        let catalog = try PriceCatalog.load(catalogPath)
        // the catalog also prices reference GPU offers ("a100-single"); EC2's types are family.size
        let known = Set(catalog.instances.keys.filter { $0.contains(".") }).union(configuration.stack.allow.instanceTypes)
        for resource in expanded.resources where resource.type == "aws.ec2.instance" {
            guard let type = resource.properties["instance_type"]?.stringValue, !known.contains(type) else { continue }
            let message = Suggestion.message("\(resource.address): instance type '\(SafeText.quoted(type))' is not in the price catalog",
                                             for: type, among: known)
            throw StackError(message + " (\(catalogPath)); a type newer than the catalog can be named in the stack's allow.instance_types",
                             at: resource.propertyLocations["instance_type"] ?? resource.location)
        }
    }
}
