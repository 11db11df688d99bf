public import CSI
public import Kube

/// The nodes as `GenerateAccessibilityRequirements` reads them (its CSINode and Node listers), for one driver.
public struct NodeTopologyView: Sendable, Hashable {
    /// CSINode name → the topology keys the driver registered there (empty when the CSINode lacks the driver or it
    /// reported none). A name that is absent has no CSINode.
    public var csiNodeKeys: [String: [String]]
    /// Node name → its labels.
    public var nodeLabels: [String: [String: String]]

    public init(csiNodeKeys: [String: [String]] = [:], nodeLabels: [String: [String: String]] = [:]) {
        self.csiNodeKeys = csiNodeKeys
        self.nodeLabels = nodeLabels
    }

    /// From CSINode and Node objects.
    public init(driver: String, csiNodes: [CSINode], nodes: [Node]) {
        var keys: [String: [String]] = [:]
        for c in csiNodes { keys[c.name] = c.topologyKeys(driver: driver) ?? [] }
        var labels: [String: [String: String]] = [:]
        for n in nodes { labels[n.name] = n.metadata.labels }
        self.init(csiNodeKeys: keys, nodeLabels: labels)
    }
}

/// external-provisioner's `GenerateAccessibilityRequirements` (`pkg/controller/topology.go`, v6; kubernetes.md
/// §1.6): the CSI `TopologyRequirement` of a CreateVolume when the driver reports VOLUME_ACCESSIBILITY_CONSTRAINTS.
/// Pure; the same decisions and error texts.
///
/// - **Selected node** (WaitForFirstConsumer): the topology keys come from that node's CSINode (none → NotFound →
///   the claim is rescheduled), the values from the Node's labels (every key must be there). `strict` narrows
///   requisite (and preferred) to the selected node's topology, which must then lie inside allowedTopologies.
///   Otherwise requisite = the flattened allowedTopologies, or — without them — the topologies of every Node that
///   carries all the keys; preferred = requisite rotated to start at the first term the selected node satisfies.
/// - **Immediate binding**: requisite = the flattened allowedTopologies; without them and with `immediate` off,
///   no requirement at all; with it on, the keys of the first CSINode that has any for this driver and the
///   topologies of every Node carrying all of them. Preferred = requisite rotated by the claim name's hash (the
///   StatefulSet spreading of `getPVCNameHashAndIndexOffset`).
/// - Requisite terms are sorted (shorter first, then by key and value bytes) and de-duplicated.
///
/// Knowingly differs: upstream picks the CSINode whose keys it uses in random order (`rand.Shuffle`); Ferry takes
/// the first by name (deterministic; all CSINodes of one driver normally report the same keys). An empty claim
/// name (never the case for a stored claim) hashes as "" instead of a random number.
public enum AccessibilityRequirements {
    /// Why no requirement could be built.
    public enum Failure: Error, Sendable, Hashable {
        /// The selected node's CSINode does not exist (upstream: an `IsNotFound` error → `ProvisioningReschedule`):
        /// give the claim back to the scheduler. The message is the event text.
        case reschedule(String)
        /// Anything else (`ProvisioningNoChange`): report and retry. The message is the event text, prefixed like
        /// `prepareProvision` does ("error generating accessibility requirements: …").
        case retry(String)

        public var message: String {
            switch self {
            case .reschedule(let m), .retry(let m): m
            }
        }
    }

    public static func generate(driver: String, claimName: String, allowedTopologies: [JSONMap], selectedNode: String?,
                                strict: Bool, immediate: Bool, view: NodeTopologyView) -> Result<TopologyRequirement?, Failure> {
        func retry(_ text: String) -> Result<TopologyRequirement?, Failure> {
            .failure(.retry("error generating accessibility requirements: \(text)"))
        }
        let node = selectedNode ?? ""
        var requisite: [Term] = []
        var selectedTerm = Term(segments: [])
        var keys: [String] = []

        // 1. The selected node's topology keys and values.
        if !node.isEmpty {
            guard let registered = view.csiNodeKeys[node] else {
                return .failure(.reschedule("failed to get selected CSINode \(node): csinode.storage.k8s.io \"\(node)\" not found"))
            }
            keys = registered
            if keys.isEmpty { return retry("no topology key found for node \(node)") }
            let labels = view.nodeLabels[node]
            guard let labels, let term = Term.from(labels: labels, keys: keys) else {
                return retry("topology labels from selected node \(GoFormat.map(labels ?? [:])) does not match topology keys from CSINode \(GoFormat.strings(keys))")
            }
            selectedTerm = term
            if strict {
                if !allowedTopologies.isEmpty {
                    let flat = flatten(allowedTopologies)
                    if !flat.contains(where: { $0.isSubset(of: selectedTerm) }) {
                        return retry("selected node '\(GoFormat.quoted(node))' topology '\(selectedTerm.go)' is not in allowed topologies: \(GoFormat.terms(flat))")
                    }
                }
                requisite = [selectedTerm]
            }
        }

        // 2. Requisite.
        if requisite.isEmpty {
            if !allowedTopologies.isEmpty {
                requisite = flatten(allowedTopologies)
            } else {
                if node.isEmpty, !immediate { return .success(nil) }
                switch aggregate(driver: driver, selectedNode: node, selectedKeys: keys, view: view) {
                case .failure(let f): return .failure(f)
                case .success(let terms): requisite = terms
                }
                if requisite.isEmpty { return retry("no available topology found") }
            }
        }
        // allowedTopologies with nothing but empty entries: no requirement.
        if requisite.isEmpty { return .success(nil) }
        requisite.sort()
        requisite = requisite.reduce(into: []) { out, t in if out.last != t { out.append(t) } }

        // 3. Preferred.
        let preferred: [Term]
        if node.isEmpty {
            let (hash, index) = claimNameHash(claimName)
            let i = Int((hash &+ index) % UInt32(requisite.count))
            preferred = Array(requisite[i...] + requisite[..<i])
        } else if strict {
            preferred = requisite
        } else {
            guard let i = requisite.firstIndex(where: { $0.isSubset(of: selectedTerm) }) else {
                return retry("topology \(selectedTerm.go) from selected node \(GoFormat.quoted(node)) is not in requisite: \(GoFormat.terms(requisite))")
            }
            preferred = Array(requisite[i...] + requisite[..<i])
        }
        return .success(TopologyRequirement(requisite: requisite.compactMap(\.topology), preferred: preferred.compactMap(\.topology)))
    }

    /// `aggregateTopologies`: the topology of every Node that carries all the keys (the selected node's, or the
    /// first CSINode's with any for this driver). An empty answer means no CSINode has keys (immediate binding).
    static func aggregate(driver: String, selectedNode: String, selectedKeys: [String], view: NodeTopologyView)
        -> Result<[Term], Failure> {
        var keys = selectedKeys
        if selectedNode.isEmpty {
            keys = view.csiNodeKeys.keys.sorted().lazy.compactMap { view.csiNodeKeys[$0] }.first { !$0.isEmpty } ?? []
            if keys.isEmpty { return .success([]) }  // "No topology keys found on any node"
        } else if keys.isEmpty {
            return .failure(.retry("error generating accessibility requirements: no topology key found on CSINode \(selectedNode)"))
        }
        let terms = view.nodeLabels.keys.sorted().compactMap { name in view.nodeLabels[name].flatMap { Term.from(labels: $0, keys: keys) } }
        if terms.isEmpty {
            return .failure(.retry("error generating accessibility requirements: topologyKeys \(GoFormat.strings(keys)) were not found on any nodes"))
        }
        return .success(terms)
    }

    /// `flatten`: each allowedTopologies term's OR of values distributed over its AND of expressions. Like
    /// upstream, an expression without values drops the combinations built so far (the next expression starts
    /// afresh).
    static func flatten(_ allowedTopologies: [JSONMap]) -> [Term] {
        var result: [Term] = []
        for selectorTerm in allowedTopologies {
            var old: [Term] = []
            for expression in (selectorTerm["matchLabelExpressions"] as [JSONMap]?) ?? [] {
                let key: String = expression["key"] ?? ""
                var new: [Term] = []
                for value in (expression["values"] as [String]?) ?? [] {
                    if old.isEmpty {
                        new.append(Term(segments: [.init(key: key, value: value)]))
                    } else {
                        for t in old { new.append(Term(segments: t.segments + [.init(key: key, value: value)])) }
                    }
                }
                old = new
            }
            result += old
        }
        return result.map { Term(segments: $0.segments.sorted()) }
    }

    /// `getPVCNameHashAndIndexOffset`: FNV-1 (32-bit) of the claim name — for `Claim-StatefulSet-N` of the part
    /// after the last dash of `Claim-StatefulSet`, offset by N.
    static func claimNameHash(_ name: String) -> (hash: UInt32, index: UInt32) {
        var hashed = Substring(name)
        var index: UInt32 = 0
        if let dash = name.lastIndex(of: "-") {
            let suffix = name[name.index(after: dash)...]
            if !suffix.isEmpty, suffix.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = UInt32(suffix) {
                index = n
                hashed = name[..<dash]
                if let second = hashed.lastIndex(of: "-") { hashed = hashed[hashed.index(after: second)...] }
            }
        }
        var hash: UInt32 = 2_166_136_261
        for byte in hashed.utf8 {
            hash = hash &* 16_777_619
            hash ^= UInt32(byte)
        }
        return (hash, index)
    }

    /// `topologyTerm`: key/value pairs AND'ed, kept sorted.
    struct Term: Hashable, Comparable, Sendable {
        struct Segment: Hashable, Comparable, Sendable {
            var key: String
            var value: String
            static func < (a: Segment, b: Segment) -> Bool {
                if a.key != b.key { return a.key.utf8.lexicographicallyPrecedes(b.key.utf8) }
                return a.value.utf8.lexicographicallyPrecedes(b.value.utf8)
            }
        }
        var segments: [Segment]

        /// `extractTopologyTerm`: nil when a key is missing from the labels.
        static func from(labels: [String: String], keys: [String]) -> Term? {
            var segments: [Segment] = []
            for key in keys {
                guard let value = labels[key] else { return nil }
                segments.append(.init(key: key, value: value))
            }
            return Term(segments: segments.sorted())
        }

        /// `compare`: shorter first, then segment by segment.
        static func < (a: Term, b: Term) -> Bool {
            if a.segments.count != b.segments.count { return a.segments.count < b.segments.count }
            for (x, y) in zip(a.segments, b.segments) where x != y { return x < y }
            return false
        }

        /// `subset`: every pair of this term is in `other`.
        func isSubset(of other: Term) -> Bool {
            segments.allSatisfy { s in other.segments.contains(s) }
        }

        var topology: Topology? {
            segments.isEmpty ? nil : Topology(segments: Dictionary(segments.map { ($0.key, $0.value) }) { _, b in b })
        }

        /// Go's `%v` of a `topologyTerm`: `[{key value} …]`.
        var go: String { "[" + segments.map { "{\($0.key) \($0.value)}" }.joined(separator: " ") + "]" }
    }
}

/// Go's `fmt` renderings used in upstream's error texts.
enum GoFormat {
    /// `%v` of a `map[string]string`: `map[k:v k2:v2]`, keys sorted.
    static func map(_ m: [String: String]) -> String {
        "map[" + m.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\($0):\(m[$0] ?? "")" }.joined(separator: " ") + "]"
    }
    /// `%v` of a `[]string`.
    static func strings(_ s: [String]) -> String { "[" + s.joined(separator: " ") + "]" }
    /// `%v` of a `[]topologyTerm`.
    static func terms(_ t: [AccessibilityRequirements.Term]) -> String { "[" + t.map(\.go).joined(separator: " ") + "]" }
    /// `%q` of a plain string.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\\" || c == "\"" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }
}
