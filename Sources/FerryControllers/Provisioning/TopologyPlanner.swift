public import CSI
public import Kube

extension StorageClass {
    /// `allowedTopologies`: terms of `matchLabelExpressions` (`{key, values}`).
    public var allowedTopologies: [JSONMap] {
        get { self["allowedTopologies"] ?? [] }
        set { self["allowedTopologies"] = newValue.isEmpty ? nil : newValue }
    }
}

/// CSI topology from a StorageClass's `allowedTopologies` and the selected node (a simplified
/// `GenerateAccessibilityRequirements`, kubernetes.md §1.6). Pure.
///
/// - Requisite: every combination the allowed terms permit (each term's expressions multiplied out); with none, the
///   selected node's topology alone.
/// - Preferred: the selected node's topology first (delayed binding), then the requisite ones.
/// Deviation: without allowedTopologies and without a selected node, Ferry sends no requirement (upstream aggregates
/// the topologies of every CSINode, which needs a cluster-wide node watch).
public enum TopologyPlanner {
    public static func requirements(allowedTopologies: [JSONMap], selectedNode: [String: String]?) -> TopologyRequirement? {
        var requisite: [Topology] = []
        for term in allowedTopologies {
            var combos: [[String: String]] = [[:]]
            let expressions: [JSONMap] = term["matchLabelExpressions"] ?? []
            for e in expressions {
                guard let key: String = e["key"] else { continue }
                let values: [String] = e["values"] ?? []
                combos = combos.flatMap { c in values.map { v in c.merging([key: v]) { _, b in b } } }
            }
            for c in combos where !c.isEmpty {
                let t = Topology(segments: c)
                if !requisite.contains(t) { requisite.append(t) }
            }
        }
        var preferred: [Topology] = []
        if let node = selectedNode, !node.isEmpty {
            // Only the keys the allowed topologies speak about, when there are any.
            let keys = Set(requisite.flatMap(\.segments.keys))
            let segments = keys.isEmpty ? node : node.filter { keys.contains($0.key) }
            let nodeTopology = Topology(segments: segments)
            if requisite.isEmpty {
                requisite = [nodeTopology]
            } else if !requisite.contains(where: { $0.segments.allSatisfy { segments[$0.key] == $0.value } }) {
                // The selected node lies outside the allowed topologies: keep the class's constraint.
                return TopologyRequirement(requisite: requisite, preferred: requisite)
            }
            preferred.append(nodeTopology)
        }
        guard !requisite.isEmpty else { return nil }
        for t in requisite where !preferred.contains(t) { preferred.append(t) }
        return TopologyRequirement(requisite: requisite, preferred: preferred)
    }

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
