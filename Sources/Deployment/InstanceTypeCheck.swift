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
        // a node's type, a fleet's launch template's, and every type of a mixed-instances group
        let named: [(DesiredResource, String, String)] = expanded.resources.flatMap { resource -> [(DesiredResource, String, String)] in
            switch resource.type {
            case "aws.ec2.instance", "aws.ec2.launch_template":
                return resource.properties["instance_type"]?.stringValue.map { [(resource, "instance_type", $0)] } ?? []
            case "aws.autoscaling.group":
                return (resource.properties["instance_types"]?.listValue ?? []).compactMap(\.stringValue).map { (resource, "instance_types", $0) }
            default:
                return []
            }
        }
        for (resource, property, type) in named where !known.contains(type) {
            let message = Suggestion.message("\(resource.address): instance type '\(SafeText.quoted(type))' is not in the price catalog",
                                             for: type, among: known)
            throw StackError(message + " (\(catalogPath)); a type newer than the catalog can be named in the stack's allow.instance_types",
                             at: resource.propertyLocations[property] ?? resource.location)
        }
    }
}
