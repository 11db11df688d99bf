import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The scheduler's volume binding with the provisioner, and the protection controller.
struct SchedulingTests {
    @Test func waitForFirstConsumerClaimIsProvisionedOnTheChosenNode() async throws {
        let components: [any ClusterComponent] = [CSIDriverComponent(), PVBinder(), ExternalProvisioner(), Scheduler(),
                                                  Kubelet(nodeName: "node-1"), Kubelet(nodeName: "node-2")]
        try await ClusterFixture.with(components, nodes: 2) { f in
            try await f.storageClass("late", binding: "WaitForFirstConsumer")
            _ = try await f.client.create(ClusterFixture.claim("late-data", storageClass: "late"))
            #expect(try await eventually {
                try await f.events(for: "late-data").contains {
                    $0.reason == "WaitForFirstConsumer" && $0.message == "waiting for first consumer to be created before binding"
                }
            })
            #expect(try await eventually { (try? await f.client.get(Node.self, name: "node-2")) != nil })
            var pod = Pod(name: "consumer", namespace: "default")
            pod.spec.object["nodeSelector"] = ["kubernetes.io/hostname": "node-2"]
            pod.spec.object["containers"] = [["name": "main", "image": "busybox", "command": ["true"],
                                              "volumeMounts": [["name": "d", "mountPath": "/ferry-sched-test"]]]]
            pod.spec.object["volumes"] = [["name": "d", "persistentVolumeClaim": ["claimName": "late-data"]]]
            _ = try await f.client.create(pod)
            #expect(try await eventually(.seconds(30)) {
                try await f.client.get(PersistentVolumeClaim.self, name: "late-data").status.phase == "Bound"
            })
            let claim = try await f.client.get(PersistentVolumeClaim.self, name: "late-data")
            #expect(claim.metadata.annotations["volume.kubernetes.io/selected-node"] == "node-2")
            let pv = try await f.client.get(PersistentVolume.self, name: claim.spec.volumeName ?? "")
            let term = pv.spec.nodeAffinity?.object["required"]?.object?["nodeSelectorTerms"]?.array?.first
            let expression = term?.object?["matchExpressions"]?.array?.first?.object
            #expect(expression?["key"]?.string == LocalCSIDriver.topologyKey)
            #expect(expression?["values"]?.array == ["node-2"])
        }
    }

    @Test func podThatFitsNoNodeStaysPendingWithAReason() async throws {
        try await ClusterFixture.with([CSIDriverComponent(), Scheduler(), Kubelet(nodeName: "node-1")]) { f in
            #expect(try await eventually { (try? await f.client.get(Node.self, name: "node-1")) != nil })
            var pod = Pod(name: "picky", namespace: "default")
            pod.spec.object["nodeSelector"] = ["disk": "ssd"]
            pod.spec.object["containers"] = [["name": "main", "image": "busybox", "command": ["true"]]]
            _ = try await f.client.create(pod)
            #expect(try await eventually {
                try await f.events(for: "picky").contains {
                    $0.reason == "FailedScheduling"
                        && $0.message == "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
                }
            })
            #expect(try await f.client.get(Pod.self, name: "picky").spec.nodeName == nil)
        }
    }

    @Test func claimInUseKeepsItsProtectionFinalizerUntilThePodGoes() async throws {
        try await ClusterFixture.with([ProtectionController()]) { f in
            var claim = ClusterFixture.claim("kept", storageClass: "none")
            claim.metadata.finalizers = ["kubernetes.io/pvc-protection"]
            _ = try await f.client.create(claim)
            var pod = Pod(name: "user", namespace: "default")
            pod.spec.nodeName = "node-x"
            pod.spec.object["containers"] = [["name": "main", "image": "busybox"]]
            pod.spec.object["volumes"] = [["name": "d", "persistentVolumeClaim": ["claimName": "kept"]]]
            _ = try await f.client.create(pod)
            try await f.client.delete(PersistentVolumeClaim.self, name: "kept")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await f.client.get(PersistentVolumeClaim.self, name: "kept").metadata.deletionTimestamp != nil)
            try await f.client.delete(Pod.self, name: "user")
            #expect(try await eventually { (try? await f.client.get(PersistentVolumeClaim.self, name: "kept")) == nil })
        }
    }
}
