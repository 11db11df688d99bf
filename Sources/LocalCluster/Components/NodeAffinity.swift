import Kube

/// Node selection rules shared by the scheduler and the PV matching (component-helpers
/// `scheduling/corev1/nodeaffinity`): `nodeSelectorTerms` are ORed, the expressions inside one term ANDed; label
/// operators In, NotIn, Exists, DoesNotExist, Gt, Lt; `matchFields` supports `metadata.name` (In, NotIn).
enum NodeAffinity {
    /// Whether one `nodeSelectorTerms` list admits the node (an empty list admits nothing, as upstream).
    static func matches(terms: [JSONMap], node: Node) -> Bool {
        terms.contains { term in
            let expressions: [JSONMap] = term["matchExpressions"] ?? []
            let fields: [JSONMap] = term["matchFields"] ?? []
            if expressions.isEmpty && fields.isEmpty { return false }
            return expressions.allSatisfy { requirement($0, value: { node.metadata.labels[$0] }) }
                && fields.allSatisfy { requirement($0, value: { $0 == "metadata.name" ? node.name : nil }) }
        }
    }

    private static func requirement(_ r: JSONMap, value: (String) -> String?) -> Bool {
        let key: String = r["key"] ?? ""
        let values: [String] = r["values"] ?? []
        let v = value(key)
        switch r["operator"] as String? {
        case "In": return v.map(values.contains) ?? false
        case "NotIn": return !(v.map(values.contains) ?? false)
        case "Exists": return v != nil
        case "DoesNotExist": return v == nil
        case "Gt": return Int64(v ?? "").flatMap { a in values.first.flatMap(Int64.init).map { a > $0 } } ?? false
        case "Lt": return Int64(v ?? "").flatMap { a in values.first.flatMap(Int64.init).map { a < $0 } } ?? false
        default: return false
        }
    }

    /// Whether a PV's `spec.nodeAffinity.required` admits the node (no affinity admits every node).
    static func volume(_ volume: PersistentVolume, allows node: Node) -> Bool {
        guard let affinity = volume.spec.nodeAffinity, let required = affinity.object["required"]?.object else {
            return true
        }
        let terms = (required["nodeSelectorTerms"]?.array ?? []).compactMap { JSONMap(json: $0) }
        return matches(terms: terms, node: node)
    }

    /// Whether a pod's `nodeSelector` and required node affinity admit the node.
    static func pod(_ pod: Pod, allows node: Node) -> Bool {
        let selector: [String: String] = pod.spec["nodeSelector"] ?? [:]
        for (k, v) in selector where node.metadata.labels[k] != v { return false }
        let required = pod.spec.object["affinity"]?.object?["nodeAffinity"]?.object?[
            "requiredDuringSchedulingIgnoredDuringExecution"]?.object
        guard let required else { return true }
        let terms = (required["nodeSelectorTerms"]?.array ?? []).compactMap { JSONMap(json: $0) }
        return matches(terms: terms, node: node)
    }

    /// A PV `nodeAffinity` pinning a volume to topology segments (one term per segment set), as
    /// external-provisioner writes from `accessible_topology`.
    static func volumeAffinity(segments: [[String: String]]) -> JSONMap? {
        let terms: [JSONValue] = segments.filter { !$0.isEmpty }.map { segment in
            .object(["matchExpressions": .array(segment.keys.sorted().map { key in
                .object(["key": .string(key), "operator": "In", "values": [.string(segment[key] ?? "")]])
            })])
        }
        guard !terms.isEmpty else { return nil }
        return JSONMap(object: ["required": .object(["nodeSelectorTerms": .array(terms)])])
    }
}
