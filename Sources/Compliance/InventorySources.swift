import Stack

extension Inventory {
    /// The stack as planned: each desired resource's properties with its computed attributes (`known`, from the
    /// state, where the plan keeps the resource; unknown otherwise), and the network phase's parameters.
    public init(planned expanded: ExpandedStack, configuration: StackConfiguration,
                known: [String: [String: Value]] = [:]) {
        let subjects = expanded.resources.map { resource in
            var attributes = resource.properties
            for name in resource.schema.computed { attributes[name] = known[resource.address.description]?[name] ?? .unknown }
            var subject = Subject(address: resource.address.description, type: resource.type, attributes: attributes,
                                  dependencies: resource.dependencies.map(\.description))
            subject.location = resource.location
            return subject
        }
        self.init(subjects: subjects, configuration: configuration)
    }

    /// The stack as it stands in the account: each recorded resource's attributes with those read from the account
    /// (`live`) over them. A resource the read found gone (a nil entry) is left out, for the caller to report; one of
    /// a type nobody read (no entry) keeps its recorded attributes, none of them observed, so every rule over it fails.
    public init(recorded resources: [(address: String, type: String, attributes: [String: Value], dependencies: [String])],
                live: [String: [String: Value]?], configuration: StackConfiguration) {
        let subjects = resources.compactMap { resource -> Subject? in
            guard let entry = live[resource.address] else {
                return Subject(address: resource.address, type: resource.type, attributes: resource.attributes,
                               dependencies: resource.dependencies, live: true)
            }
            guard let read = entry else { return nil }
            return Subject(address: resource.address, type: resource.type, attributes: resource.attributes.merging(read) { _, live in live },
                           dependencies: resource.dependencies, observed: Set(read.keys), live: true, declared: resource.attributes)
        }
        self.init(subjects: subjects, configuration: configuration)
    }

    private init(subjects: [Subject], configuration: StackConfiguration) {
        let network = configuration.parameters[.network] ?? [:]
        self.init(subjects: subjects, allowedCIDRs: network["allowed_cidrs"]?.listValue?.compactMap(\.stringValue) ?? [],
                  inferencePort: network["inference_port"]?.intValue,
                  requiredEndpoints: network["interface_endpoints"]?.listValue?.compactMap(\.stringValue) ?? [],
                  account: configuration.stack.account)
    }
}
