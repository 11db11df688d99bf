import Kube
@testable import LocalCluster
import Testing

/// The components' pure decision rules, without a server.
struct ComponentDecisionTests {
    @Test(arguments: [("1Gi", Int64(1 << 30)), ("1536Mi", 1536 << 20), ("1G", 1_000_000_000), ("500M", 500_000_000),
                      ("1.5Gi", 1_610_612_736), ("1e3", 1000), ("4096", 4096), ("100k", 100_000)])
    func quantitiesParseToBytes(_ text: String, _ bytes: Int64) {
        #expect(Quantity.bytes(text) == bytes)
    }

    @Test(arguments: ["", "Gi", "1.2.3Gi", "-1Gi", "abc", "99999999999Ei"])
    func malformedQuantitiesAreRejected(_ text: String) {
        #expect(Quantity.bytes(text) == nil)
    }

    @Test func bytesPrintCanonically() {
        #expect(Quantity.string(bytes: 1 << 30) == "1Gi")
        #expect(Quantity.string(bytes: 1536 << 20) == "1536Mi")
        #expect(Quantity.string(bytes: 1000) == "1000")
    }

    @Test(arguments: [("busybox", "/bin/sh"), ("busybox:1.36", "/bin/sh"), ("docker.io/library/busybox@sha256:abc", "/bin/sh"),
                      ("ghcr.io/ferry/ferry:v1", "/opt/ferry"), ("registry:5000/ferry", "/opt/ferry")])
    func imagesResolveByRepositoryAnyTag(_ image: String, _ path: String) {
        let table = ImageTable(["ferry": "/opt/ferry"])
        #expect(table.executable(for: image) == path)
    }

    @Test func unknownImagesHaveNoExecutable() {
        #expect(ImageTable([:]).executable(for: "nginx:latest") == nil)
    }

    @Test func variableReferencesExpandLikeTheKubelet() {
        let env = ["A": "x", "B": "y"]
        #expect(PodEnvironment.expand("$(A)-$(B)", env) == "x-y")
        #expect(PodEnvironment.expand("$(C)", env) == "$(C)")
        #expect(PodEnvironment.expand("$$(A)", env) == "$(A)")
        #expect(PodEnvironment.expand("cost: $5", env) == "cost: $5")
    }

    static func volume(_ name: String, size: String, modes: [String] = ["ReadWriteOnce"], cls: String = "fast",
                       labels: [String: String] = [:], claimRef: ObjectReference? = nil) -> PersistentVolume {
        var pv = PersistentVolume(name: name)
        pv.spec.capacity = ["storage": size]
        pv.spec.accessModes = modes
        pv.spec.storageClassName = cls
        pv.metadata.labels = labels
        pv.spec.claimRef = claimRef
        pv.status.phase = claimRef == nil ? "Available" : "Bound"
        return pv
    }

    static func claim(size: String = "1Gi", modes: [String] = ["ReadWriteOnce"], cls: String = "fast") -> PersistentVolumeClaim {
        var pvc = PersistentVolumeClaim(name: "c", namespace: "ns")
        pvc.metadata.uid = "uid-c"
        pvc.spec.resources.requests = ["storage": size]
        pvc.spec.accessModes = modes
        pvc.spec.storageClassName = cls
        return pvc
    }

    @Test func smallestMatchingAvailableVolumeWins() {
        let volumes = [Self.volume("big", size: "10Gi"), Self.volume("small", size: "2Gi"), Self.volume("tiny", size: "500Mi"),
                       Self.volume("other-class", size: "1Gi", cls: "slow"), Self.volume("rox", size: "1Gi", modes: ["ReadOnlyMany"])]
        #expect(VolumeMatching.findMatchingVolume(Self.claim(), in: volumes, delayBinding: false)?.name == "small")
        #expect(VolumeMatching.findMatchingVolume(Self.claim(), in: volumes, delayBinding: true) == nil)
    }

    @Test func preBoundVolumeWinsWhateverItsClass() {
        let ref = ObjectReference(namespace: "ns", name: "c")
        let volumes = [Self.volume("small", size: "2Gi"), Self.volume("mine", size: "5Gi", cls: "other", claimRef: ref)]
        #expect(VolumeMatching.findMatchingVolume(Self.claim(), in: volumes, delayBinding: true)?.name == "mine")
        let taken = [Self.volume("theirs", size: "5Gi", claimRef: ObjectReference(namespace: "ns", name: "c", uid: "other"))]
        #expect(VolumeMatching.findMatchingVolume(Self.claim(), in: taken, delayBinding: false) == nil)
    }

    @Test func mismatchReasonsAreUpstreams() {
        #expect(VolumeMatching.mismatch(Self.volume("v", size: "1Mi"), Self.claim()) == "requested PV is too small")
        #expect(VolumeMatching.mismatch(Self.volume("v", size: "1Gi", cls: "x"), Self.claim()) == "storageClassName does not match")
        #expect(VolumeMatching.mismatch(Self.volume("v", size: "1Gi", modes: ["ReadOnlyMany"]), Self.claim()) == "incompatible accessMode")
        #expect(VolumeMatching.mismatch(Self.volume("v", size: "1Gi"), Self.claim()) == nil)
    }

    @Test func nodeAffinityTermsAreOredAndExpressionsAnded() {
        var node = Node(name: "node-2")
        node.metadata.labels = ["zone": "a", "disk": "ssd", "cores": "8"]
        func term(_ exprs: [JSONValue]) -> JSONMap { JSONMap(object: ["matchExpressions": .array(exprs)]) }
        let zoneA: JSONValue = ["key": "zone", "operator": "In", "values": ["a"]]
        let noGPU: JSONValue = ["key": "gpu", "operator": "DoesNotExist"]
        let bigger: JSONValue = ["key": "cores", "operator": "Gt", "values": ["4"]]
        let zoneB: JSONValue = ["key": "zone", "operator": "In", "values": ["b"]]
        #expect(NodeAffinity.matches(terms: [term([zoneA, noGPU, bigger])], node: node))
        #expect(!NodeAffinity.matches(terms: [term([zoneA, zoneB])], node: node))
        #expect(NodeAffinity.matches(terms: [term([zoneB]), term([zoneA])], node: node))
        #expect(!NodeAffinity.matches(terms: [], node: node))
        let byName = JSONMap(object: ["matchFields": [["key": "metadata.name", "operator": "In", "values": ["node-2"]]]])
        #expect(NodeAffinity.matches(terms: [byName], node: node))
    }
}
