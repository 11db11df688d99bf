public import CSI
public import Kube

extension StorageClass {
    /// `allowedTopologies`: terms of `matchLabelExpressions` (`{key, values}`).
    public var allowedTopologies: [JSONMap] {
        get { self["allowedTopologies"] ?? [] }
        set { self["allowedTopologies"] = newValue.isEmpty ? nil : newValue }
    }
}

/// The PV side of topology: node affinity from the volume's accessible topology (the request side is
/// ``AccessibilityRequirements``). Pure.
public enum TopologyPlanner {
    /// A PV's `spec.nodeAffinity` from the volume's accessible topology: one node-selector term per topology, each
    /// segment an `In` expression. nil when the volume is accessible everywhere.
    public static func nodeAffinity(_ topologies: [Topology]) -> JSONMap? {
        let terms: [JSONValue] = topologies.filter { !$0.segments.isEmpty }.map { t in
            let expressions: [JSONValue] = t.segments.keys.sorted().map { key in
                ["key": .string(key), "operator": "In", "values": [.string(t.segments[key] ?? "")]]
            }
            return ["matchExpressions": .array(expressions)]
        }
        guard !terms.isEmpty else { return nil }
        return JSONMap(object: ["required": ["nodeSelectorTerms": .array(terms)]])
    }
}
