import Foundation
import GRPCTransport
import Kube
import LocalCluster
import Synchronization
import Testing

/// Issue 12, topology and rescheduling, end to end: the real `ferry controller` beside the local control plane
/// (kubelet-written CSINodes, the scheduler's `selected-node`), every user step done with kubectl.
/// - A WaitForFirstConsumer claim whose CreateVolume answers RESOURCE_EXHAUSTED is given back to the scheduler
///   (`volume.kubernetes.io/selected-node` removed, upstream's Warning text), picked again and provisioned.
/// - The selected node's CSINode missing → rescheduled before CreateVolume; an Immediate claim with no CSINode
///   registering the driver → "no available topology found"; both bind once the CSINode is back.
@Suite(.serialized, .controllerCluster)
struct TopologyEndToEndTests {
    var cluster: ControllerCluster {
        get throws { try #require(ControllerCluster.current) }
    }

    static let wffcClass = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: local-wffc}
        provisioner: local.csi.ferry.io
        reclaimPolicy: Delete
        volumeBindingMode: WaitForFirstConsumer
        """

    /// A pod in `namespace` that reads the restored file from `claim`.
    static func reader(_ namespace: String, claim: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: reader, namespace: \(namespace)}
        spec:
          restartPolicy: Never
          containers:
          - name: reader
            image: busybox
            command: [sh, -c, "cat /data/db/stats.txt"]
            volumeMounts: [{name: data, mountPath: /data}]
          volumes:
          - name: data
            persistentVolumeClaim: {claimName: \(claim)}
        """
    }

    @Test func theKubeletRegistersTheDriverInTheNodesCSINode() async throws {
        let c = try cluster
        let text = try await c.kubectl(["get", "csinode", "node-1", "-o", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let metadata = try #require(object["metadata"] as? [String: Any])
        let owners = try #require(metadata["ownerReferences"] as? [[String: Any]])
        #expect(owners.first?["kind"] as? String == "Node" && owners.first?["name"] as? String == "node-1")
        let nodeUID = try await c.kubectl(["get", "node", "node-1", "-o", "jsonpath={.metadata.uid}"])
        #expect(owners.first?["uid"] as? String == nodeUID)
        let drivers = try #require((object["spec"] as? [String: Any])?["drivers"] as? [[String: Any]])
        #expect(drivers.count == 1)
        #expect(drivers.first?["name"] as? String == "local.csi.ferry.io")
        #expect(drivers.first?["nodeID"] as? String == "node-1")
        #expect(drivers.first?["topologyKeys"] as? [String] == ["topology.local.csi.ferry.io/node"])
        let nodeIDs = try await c.kubectl(["get", "node", "node-1", "-o",
                                           "jsonpath={.metadata.annotations.csi\\.volume\\.kubernetes\\.io/nodeid}"])
        #expect(nodeIDs == #"{"local.csi.ferry.io":"node-1"}"#)
    }

    @Test func aClaimTheDriverCannotPlaceIsGivenBackToTheSchedulerAndProvisionedOnItsNextChoice() async throws {
        let c = try cluster
        try await c.apply(Self.wffcClass)
        try await c.grant("e2e-resched-may-restore", from: "e2e-resched")
        try await c.linkedClaim("e2e-resched", storageClass: "local-wffc")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await c.phase("e2e-resched", "restored") == "Pending")
        // node-1 is full until the claim has been given back to the scheduler at least once. (Not a single fault:
        // the first attempt may race the PV binder's annotation of the claim, and then the Update that removes
        // `selected-node` answers Conflict and the attempt is retried — as upstream does.)
        let before = c.faults.calls("CreateVolume")
        c.faults.inject(.init(method: "CreateVolume", effect: .error(.resourceExhausted, "node-1 is out of capacity"), count: nil))
        defer { c.faults.clear() }
        let watch = try AnnotationWatch(c, namespace: "e2e-resched", claim: "restored")
        defer { watch.stop() }
        try await Task.sleep(for: .milliseconds(500))  // the watch's first line (the current state) is in
        try await c.apply(Self.reader("e2e-resched", claim: "restored"))
        // The scheduler's choice is taken back, and made again (one node: node-1 again).
        #expect(await poll(.seconds(30)) {
            let states = watch.lines()
            guard let set = states.firstIndex(of: "node-1"), let removed = states[set...].firstIndex(of: "") else { return false }
            return states[removed...].contains("node-1")
        }, "\(watch.lines()) \(c.controller.output.suffix(3000))")
        let failed = c.faults.calls("CreateVolume") - before
        c.faults.clear()

        #expect(await poll(.seconds(30)) { try await c.phase("e2e-resched", "restored") == "Bound" }, "\(c.controller.output.suffix(3000))")
        try await c.kubectl(["wait", "-n", "e2e-resched", "--for=jsonpath={.status.phase}=Succeeded", "pod/reader", "--timeout=60s"])
        print("e2e: selected-node as watched: \(watch.lines()); CreateVolume calls: \(failed) failed, \(c.faults.calls("CreateVolume") - before) in all")
        // Upstream's event: the gRPC error as text, nothing else (repeats of it are counted on one event).
        let warnings = try await c.warnings("e2e-resched", "restored")
        #expect(Set(warnings) == ["rpc error: code = ResourceExhausted desc = node-1 is out of capacity"], "\(warnings)")
        #expect(c.faults.calls("CreateVolume") - before >= 2)
        #expect(c.controller.output.contains("volume rescheduled"))
        // One backend volume, the snapshot's data, reachable by the pod.
        let pvc = try await c.client.get(PersistentVolumeClaim.self, name: "restored", namespace: "e2e-resched")
        #expect(c.backendVolumes().filter { $0.name == "pvc-\(pvc.metadata.uid ?? "?")" }.count == 1)
        let restored = try #require(try await c.dataOf("e2e-resched", "restored"))
        let original = try #require(try await c.dataOf("production", "webapp-data"))
        #expect(ControllerCluster.treeDigest(restored) == ControllerCluster.treeDigest(original))
        let log = try String(contentsOf: c.directory.appendingPathComponent("logs/e2e-resched/reader/reader.log"), encoding: .utf8)
        #expect(log.contains("orders: 1042"))
    }

    @Test func withoutTheDriversCSINodeClaimsWaitAndBindOnceTheKubeletRegistersItAgain() async throws {
        let c = try cluster
        try await c.apply(Self.wffcClass)
        // What the kubelet writes (see the first test), to put back later.
        let nodeUID = try await c.kubectl(["get", "node", "node-1", "-o", "jsonpath={.metadata.uid}"])
        let registration = """
            apiVersion: storage.k8s.io/v1
            kind: CSINode
            metadata:
              name: node-1
              ownerReferences: [{apiVersion: v1, kind: Node, name: node-1, uid: \(nodeUID)}]
            spec:
              drivers: [{name: local.csi.ferry.io, nodeID: node-1, topologyKeys: [topology.local.csi.ferry.io/node]}]
            """
        try await c.kubectl(["delete", "csinode", "node-1"])
        // Immediate binding: no CSINode registers the driver's keys.
        try await c.linkedClaim("e2e-nocsinode")
        try await c.grant("e2e-nocsinode-may-restore", from: "e2e-nocsinode")
        let noTopology = "error generating accessibility requirements: no available topology found"
        #expect(await poll { try await c.warnings("e2e-nocsinode", "restored").contains(noTopology) }, "\(c.controller.output.suffix(3000))")
        // WaitForFirstConsumer: the selected node has no CSINode → rescheduled before CreateVolume (NotFound).
        try await c.linkedClaim("e2e-nocsinode-wffc", storageClass: "local-wffc")
        try await c.grant("e2e-nocsinode-wffc-may-restore", from: "e2e-nocsinode-wffc")
        let watch = try AnnotationWatch(c, namespace: "e2e-nocsinode-wffc", claim: "restored")
        defer { watch.stop() }
        try await Task.sleep(for: .milliseconds(500))
        let before = c.faults.calls("CreateVolume")
        try await c.apply(Self.reader("e2e-nocsinode-wffc", claim: "restored"))
        let notFound = "failed to get selected CSINode node-1: csinode.storage.k8s.io \"node-1\" not found"
        #expect(await poll { try await c.warnings("e2e-nocsinode-wffc", "restored").contains(notFound) }, "\(c.controller.output.suffix(3000))")
        // The scheduler's choice was taken back (and is made again: one node, so it keeps choosing node-1).
        #expect(await poll {
            let states = watch.lines()
            guard let set = states.firstIndex(of: "node-1") else { return false }
            return states[set...].contains("")
        }, "\(watch.lines())")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await c.phase("e2e-nocsinode", "restored") == "Pending")
        #expect(try await c.phase("e2e-nocsinode-wffc", "restored") == "Pending")
        #expect(c.faults.calls("CreateVolume") == before)

        // The kubelet's registration comes back (as after a node-plugin restart): both claims bind.
        try await c.apply(registration)
        #expect(await poll(.seconds(30)) { try await c.phase("e2e-nocsinode", "restored") == "Bound" }, "\(c.controller.output.suffix(3000))")
        #expect(await poll(.seconds(30)) { try await c.phase("e2e-nocsinode-wffc", "restored") == "Bound" })
        try await c.kubectl(["wait", "-n", "e2e-nocsinode-wffc", "--for=jsonpath={.status.phase}=Succeeded", "pod/reader", "--timeout=60s"])
        // The PV's node affinity is the topology the driver answered for the requisite Ferry sent.
        let pvName = try await c.kubectl(["get", "pvc", "-n", "e2e-nocsinode", "restored", "-o", "jsonpath={.spec.volumeName}"])
        let affinity = try await c.kubectl(["get", "pv", pvName, "-o",
                                            "jsonpath={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}"])
        #expect(affinity == "node-1")
    }
}

/// `kubectl get pvc -w` of one claim's `selected-node` annotation, each state a line (an empty line: no annotation).
final class AnnotationWatch: @unchecked Sendable {  // @unchecked: the Process is only started and terminated
    private let process = Process()
    private let output: URL

    init(_ c: ControllerCluster, namespace: String, claim: String) throws {
        output = c.directory.appendingPathComponent("watch-\(namespace)-\(claim).txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kubectl", "get", "pvc", "-n", namespace, claim, "-w", "-o",
                             "jsonpath={.metadata.annotations.volume\\.kubernetes\\.io/selected-node}{\"\\n\"}"]
        var env = ProcessInfo.processInfo.environment
        env["KUBECONFIG"] = c.instance.kubeconfigPath.path
        env["KUBECACHEDIR"] = c.directory.appendingPathComponent("kubectl-cache").path
        env["HOME"] = c.directory.path
        process.environment = env
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The states seen so far, oldest first.
    func lines() -> [String] {
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}
