import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The official Kubernetes Python client (PyPI `kubernetes`) against the local API server: list + watch from a
/// resourceVersion, and the 410 relist path after a compaction.
@Suite(.serialized) struct PythonClientTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/python_client.py").path

    func python(_ cluster: LocalClusterInstance, _ args: String...) async throws -> JSONValue {
        let result = try await runCommand("python3", [Self.script] + args, environment: ["KUBECONFIG": cluster.kubeconfigPath.path])
        #expect(result.ok, "python client failed: \(result.stderr)")
        return try JSONCoding.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func listThenWatchFromTheListVersionSeesTheNewObject() async throws {
        let cluster = try await SharedCluster.get()
        _ = try await cluster.makeClient().create(Namespace(name: "py-watch"))
        let out = try await python(cluster, "watch", "py-watch")
        let seen = out.value(at: "seen")?.array ?? []
        #expect(seen.count == 1, "a watch from the list's version replays nothing older: \(seen)")
        #expect(seen.first?.array?.first?.string == "ADDED")
        #expect(seen.first?.array?[1].string == "from-python")
        let listed = Int(out.value(at: "listed")?.string ?? "") ?? 0
        let added = Int(seen.first?.array?[2].string ?? "") ?? 0
        #expect(added > listed)
    }

    @Test func watchFromACompactedVersionIsGoneAndTheClientRelists() async throws {
        // Its own cluster: the compaction would cut other suites' watches.
        let dir = try TemporaryDirectory()
        let cluster = try await LocalClusterInstance.start(options: LocalClusterOptions(directory: dir.url), components: [])
        defer { Task { await cluster.stop() } }
        let client = try cluster.makeClient()
        _ = try await client.create(Namespace(name: "py-relist"))
        var claim = PersistentVolumeClaim(name: "kept", namespace: "py-relist")
        claim.spec.accessModes = ["ReadWriteOnce"]
        claim.spec.resources.requests = ["storage": "1Gi"]
        let created = try await client.create(claim)
        let oldRV = created.metadata.resourceVersion ?? ""
        cluster.server.compact()
        let out = try await python(cluster, "relist", "py-relist", oldRV)
        #expect(out.value(at: "gone")?.bool == true)
        #expect(out.value(at: "names")?.array?.compactMap(\.string) == ["kept"])
    }
}
