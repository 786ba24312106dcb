import Stack

extension Inventory {
    /// The stack as planned: each desired resource's properties with its computed attributes (`known`, from the
    /// state, where the plan keeps the resource; unknown otherwise), and the network phase's parameters.
    public init(planned expanded: ExpandedStack, configuration: StackConfiguration,
                known: [String: [String: Value]] = [:]) {
        let subjects = expanded.resources.map { resource in
            var attributes = resource.properties
            for name in resource.schema.computed { attributes[name] = known[resource.address.description]?[name] ?? .unknown }
            return Subject(address: resource.address.description, type: resource.type, attributes: attributes,
                           dependencies: resource.dependencies.map(\.description))
        }
        let network = configuration.parameters[.network] ?? [:]
        self.init(subjects: subjects, allowedCIDRs: network["allowed_cidrs"]?.listValue?.compactMap(\.stringValue) ?? [],
                  inferencePort: network["inference_port"]?.intValue,
                  requiredEndpoints: network["interface_endpoints"]?.listValue?.compactMap(\.stringValue) ?? [])
    }
}
