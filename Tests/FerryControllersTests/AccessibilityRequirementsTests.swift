import CSI
import FerryControllers
import Kube
import Testing

/// ``AccessibilityRequirements`` against the cases of external-provisioner's `pkg/controller/topology_test.go`
/// (TestTopologyAggregation, TestStatefulSetSpreading, TestAllowedTopologies, TestPreferredTopologies), with the
/// exact error texts of `topology.go` and `prepareProvision`.
struct AccessibilityRequirementsTests {
    static let driver = "com.example.csi-driver"
    static let zone = "com.example.csi/zone"
    static let rack = "com.example.csi/rack"

    /// Nodes `node-0` … with these labels, and CSINodes registering these keys for the driver (nil = a CSINode
    /// without the driver; a shorter list = fewer CSINodes).
    static func view(_ labels: [[String: String]], keys: [[String]?]) -> NodeTopologyView {
        var v = NodeTopologyView()
        for (i, l) in labels.enumerated() { v.nodeLabels["node-\(i)"] = l }
        for (i, k) in keys.enumerated() { v.csiNodeKeys["node-\(i)"] = k ?? [] }
        return v
    }

    static func generate(_ view: NodeTopologyView, selected: String? = nil, allowed: [JSONMap] = [], strict: Bool = false,
                         immediate: Bool = true, claim: String = "testpvc") -> Result<TopologyRequirement?, AccessibilityRequirements.Failure> {
        AccessibilityRequirements.generate(driver: driver, claimName: claim, allowedTopologies: allowed, selectedNode: selected,
                                           strict: strict, immediate: immediate, view: view)
    }

    static func zones(_ z: String...) -> [Topology] { z.map { Topology(segments: [zone: $0]) } }

    static func term(_ expressions: [(String, [String])]) -> JSONMap {
        JSONMap(object: ["matchLabelExpressions": .array(expressions.map { e in
            ["key": .string(e.0), "values": .array(e.1.map { .string($0) })]
        })])
    }

    struct AggregationCase: Sendable, CustomTestStringConvertible {
        var name: String
        var labels: [[String: String]]
        var keys: [[String]?]
        var selected: Bool = false
        var requisite: [Topology]?  // nil = an error
        var strictRequisite: [Topology]? = nil
        var testDescription: String { name }
    }

    static let aggregation: [AggregationCase] = [
        .init(name: "same keys and values across cluster", labels: [[zone: "zone1"], [zone: "zone1"], [zone: "zone1"]],
              keys: [[zone], [zone], [zone]], requisite: zones("zone1")),
        .init(name: "selected node; same keys and values across cluster",
              labels: [[zone: "zone1"], [zone: "zone1"], [zone: "zone1"]], keys: [[zone], [zone], [zone]], selected: true,
              requisite: zones("zone1")),
        .init(name: "different values across cluster", labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone2"]],
              keys: [[zone], [zone], [zone]], requisite: zones("zone1", "zone2")),
        .init(name: "selected node; different values across cluster",
              labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone2"]], keys: [[zone], [zone], [zone]], selected: true,
              requisite: zones("zone1", "zone2"), strictRequisite: zones("zone1")),
        .init(name: "selected node: different keys across cluster",
              labels: [[zone: "zone1"], [zone: "zone1", rack: "rackA"], [zone: "zone1", rack: "rackA"]],
              keys: [[zone], [zone, rack], [zone, rack]], selected: true, requisite: zones("zone1")),
        .init(name: "random node: no nodes", labels: [], keys: [[zone], [zone], [zone]], requisite: nil),
        .init(name: "random node: missing matching node info", labels: [["com.example.csi/foo": "bar"]],
              keys: [[zone], [zone], [zone]], requisite: nil),
        .init(name: "random node: no CSINodes", labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone2"]], keys: [],
              requisite: nil),
        .init(name: "random node: missing keys", labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone2"]],
              keys: [nil, nil, nil], requisite: nil),
        .init(name: "random node: one node has been upgraded",
              labels: [["com.example.another/zone": "zone1"], ["com.example.another/zone": "zone2"], [zone: "zone3"]],
              keys: [nil, nil, [zone]], requisite: zones("zone3")),
        .init(name: "random node: node labels already exist without CSINode",
              labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone3"]], keys: [nil, nil, [zone]],
              requisite: zones("zone1", "zone2", "zone3")),
        .init(name: "selected node: missing matching node info", labels: [["com.example.csi/foo": "bar"]],
              keys: [[zone], [zone], [zone]], selected: true, requisite: nil),
        .init(name: "selected node: no CSINode info", labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone2"]],
              keys: [], selected: true, requisite: nil),
        .init(name: "selected node is missing keys", labels: [[zone: "zone1"], [zone: "zone2"], [zone: "zone2"]],
              keys: [nil, nil, nil], selected: true, requisite: nil),
    ]

    /// (strict, immediate) for every case, as upstream runs each case with and without both flags.
    static let flags: [Flags] = [.init(strict: false, immediate: false), .init(strict: false, immediate: true),
                                 .init(strict: true, immediate: false), .init(strict: true, immediate: true)]
    struct Flags: Sendable, CustomTestStringConvertible {
        var strict: Bool
        var immediate: Bool
        var testDescription: String { "strict=\(strict) immediate=\(immediate)" }
    }

    @Test(arguments: aggregation, flags)
    func topologyIsAggregatedLikeUpstream(_ c: AggregationCase, _ f: Flags) {
        let strict = f.strict, immediate = f.immediate
        let result = Self.generate(Self.view(c.labels, keys: c.keys), selected: c.selected ? "node-0" : nil, strict: strict,
                                   immediate: immediate)
        if !immediate, !c.selected {
            // Immediate binding with --immediate-topology=false: no requirement, never an error.
            #expect(result == .success(nil))
            return
        }
        let expected = strict && c.strictRequisite != nil ? c.strictRequisite : c.requisite
        switch result {
        case .success(let requirement):
            #expect(expected != nil, "expected an error, got \(String(describing: requirement))")
            #expect(requirement?.requisite == expected)
            if let expected, c.selected {
                // Preferred starts with the selected node's topology.
                #expect(requirement?.preferred.first == Topology(segments: [Self.zone: c.labels[0][Self.zone] ?? ""]))
                #expect(Set(requirement?.preferred ?? []) == Set(expected))
            }
        case .failure(let failure):
            #expect(expected == nil, "unexpected \(failure)")
        }
    }

    @Test func theErrorsCarryUpstreamsTexts() {
        let two = Self.view([[Self.zone: "zone1"], ["other": "x"]], keys: [[Self.zone], [Self.zone]])
        // The selected node's CSINode is missing: NotFound, which reschedules.
        #expect(Self.generate(two, selected: "node-7") == .failure(.reschedule(
            "failed to get selected CSINode node-7: csinode.storage.k8s.io \"node-7\" not found")))
        // Its labels lack a key (Go's %v of the labels map and the keys).
        #expect(Self.generate(two, selected: "node-1") == .failure(.retry(
            "error generating accessibility requirements: topology labels from selected node map[other:x] does not match topology keys from CSINode [com.example.csi/zone]")))
        // The CSINode has no keys for the driver.
        #expect(Self.generate(Self.view([[Self.zone: "z"]], keys: [nil]), selected: "node-0") == .failure(.retry(
            "error generating accessibility requirements: no topology key found for node node-0")))
        // Immediate: no CSINode with keys; keys found on no node.
        #expect(Self.generate(Self.view([[Self.zone: "z"]], keys: [nil])) == .failure(.retry(
            "error generating accessibility requirements: no available topology found")))
        #expect(Self.generate(Self.view([["x": "y"]], keys: [[Self.rack, Self.zone]])) == .failure(.retry(
            "error generating accessibility requirements: topologyKeys [com.example.csi/rack com.example.csi/zone] were not found on any nodes")))
        // Strict, and the selected node outside allowedTopologies.
        let allowed = [Self.term([(Self.zone, ["zone2", "zone3"])])]
        #expect(Self.generate(two, selected: "node-0", allowed: allowed, strict: true) == .failure(.retry(
            "error generating accessibility requirements: selected node '\"node-0\"' topology '[{com.example.csi/zone zone1}]' is not in allowed topologies: [[{com.example.csi/zone zone2}] [{com.example.csi/zone zone3}]]")))
        // Not strict: the selected node is not in requisite.
        #expect(Self.generate(two, selected: "node-0", allowed: allowed) == .failure(.retry(
            "error generating accessibility requirements: topology [{com.example.csi/zone zone1}] from selected node \"node-0\" is not in requisite: [[{com.example.csi/zone zone2}] [{com.example.csi/zone zone3}]]")))
    }

    /// TestStatefulSetSpreading: four nodes; `<claim>-testset-<n>` starts preferred at index n−1 whatever the claim
    /// prefix (the FNV-1 hash of "testset" plus the ordinal).
    @Test(arguments: [("testpvcA-testset-1", 0), ("testpvcB-testset-1", 0), ("testpvc-testset-2", 1),
                      ("testpvc-testset-3", 2), ("testpvc-testset-4", 3)])
    func statefulSetClaimsAreSpreadByNameHash(_ claim: String, _ first: Int) throws {
        let labels: [[String: String]] = (1...4).map { i in
            [Self.zone: "zone\(i)", Self.rack: "rack\(["A", "B", "C", "D"][i - 1])"]
        }
        let keys: [[String]?] = Array(repeating: [Self.zone, Self.rack], count: 4)
        let requirement = try #require(try Self.generate(Self.view(labels, keys: keys), claim: claim).get())
        let ordered = (0..<4).map { i in
            Topology(segments: [Self.zone: "zone\(i + 1)", Self.rack: "rack\(["A", "B", "C", "D"][i])"])
        }
        #expect(requirement.requisite == ordered)
        #expect(requirement.preferred == Array(ordered[first...] + ordered[..<first]))
    }

    @Test func allowedTopologiesAreFlattenedSortedAndDeduplicated() throws {
        // (zone1 OR zone2) AND (rackA OR rackB), plus a duplicate term and one whose empty expression drops the
        // combinations before it (upstream's `flatten`).
        let allowed = [
            Self.term([(Self.zone, ["zone1", "zone2"]), (Self.rack, ["rackA", "rackB"])]),
            Self.term([(Self.zone, ["zone1"]), (Self.rack, ["rackA"])]),
            Self.term([(Self.zone, ["zone9"]), ("empty", []), (Self.rack, ["rackZ"])]),
        ]
        let requirement = try #require(try Self.generate(NodeTopologyView(), allowed: allowed, claim: "data").get())
        #expect(requirement.requisite == [
            Topology(segments: [Self.rack: "rackZ"]),
            Topology(segments: [Self.rack: "rackA", Self.zone: "zone1"]),
            Topology(segments: [Self.rack: "rackA", Self.zone: "zone2"]),
            Topology(segments: [Self.rack: "rackB", Self.zone: "zone1"]),
            Topology(segments: [Self.rack: "rackB", Self.zone: "zone2"]),
        ])
        #expect(Set(requirement.preferred) == Set(requirement.requisite))
        // allowedTopologies apply even with --immediate-topology=false and without any CSINode.
        #expect(try Self.generate(NodeTopologyView(), allowed: allowed, immediate: false).get()?.requisite.count == 5)
    }

    @Test func aSelectedNodeInsideAllowedTopologiesComesFirst() throws {
        let v = Self.view([[Self.zone: "zone2", Self.rack: "rackB"]], keys: [[Self.zone, Self.rack]])
        let allowed = [Self.term([(Self.zone, ["zone1", "zone2", "zone3"])])]
        let loose = try #require(try Self.generate(v, selected: "node-0", allowed: allowed).get())
        #expect(loose.requisite == Self.zones("zone1", "zone2", "zone3"))
        #expect(loose.preferred == Self.zones("zone2", "zone3", "zone1"))
        // Strict: only the node's own topology (all of its keys), which the allowed term admits.
        let strict = try #require(try Self.generate(v, selected: "node-0", allowed: allowed, strict: true).get())
        #expect(strict.requisite == [Topology(segments: [Self.zone: "zone2", Self.rack: "rackB"])])
        #expect(strict.preferred == strict.requisite)
    }

    @Test func theLocalDriversNodesGiveOneSegmentEach() throws {
        // The local cluster's shape: key topology.local.csi.ferry.io/node on every node, other labels ignored.
        let key = "topology.local.csi.ferry.io/node"
        var v = NodeTopologyView()
        for n in ["node-1", "node-2"] {
            v.nodeLabels[n] = [key: n, "kubernetes.io/hostname": n, "kubernetes.io/os": "linux"]
            v.csiNodeKeys[n] = [key]
        }
        let delayed = try #require(try Self.generate(v, selected: "node-2").get())
        #expect(delayed.requisite == [Topology(segments: [key: "node-1"]), Topology(segments: [key: "node-2"])])
        #expect(delayed.preferred == [Topology(segments: [key: "node-2"]), Topology(segments: [key: "node-1"])])
        let immediate = try #require(try Self.generate(v, claim: "restored").get())
        #expect(immediate.requisite == delayed.requisite)
        #expect(Set(immediate.preferred) == Set(delayed.requisite))
    }
}
