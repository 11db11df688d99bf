import Foundation
import Kube
import LocalCluster
import Logging
import Synchronization
import Testing

struct LocalClusterInstanceTests {
    @Test func startedClusterServesItsNamespacesAndClusterCRDsThroughTheKubeconfig() async throws {
        let dir = try TemporaryDirectory()
        let cluster = try await LocalClusterInstance.start(options: LocalClusterOptions(directory: dir.url), components: [])
        let client = try KubeClient(config: KubeConfig.fromKubeconfig(path: cluster.kubeconfigPath.path, environment: [:]),
                                    logger: .init(label: "test"))
        let namespaces = try await client.list(Namespace.self, namespace: nil).items.map(\.name).sorted()
        #expect(namespaces == ["default", "kube-system"])
        let crds = try await client.list(CustomResourceDefinition.self, namespace: nil).items.map(\.name).sorted()
        #expect(crds == ClusterCRDs.names.sorted())
        let established = try await client.get(CustomResourceDefinition.self, name: "volumesnapshots.snapshot.storage.k8s.io")
        let conditions = established.status.object["conditions"]?.array ?? []
        #expect(conditions.contains { $0.object?["type"] == "Established" && $0.object?["status"] == "True" })
        var grant = ReferenceGrant(name: "g", namespace: "default")
        grant.object["spec"] = ["from": [["group": "", "kind": "PersistentVolumeClaim", "namespace": "x"]],
                                "to": [["group": "", "kind": "PersistentVolumeClaim"]]]
        _ = try await client.create(grant)
        let v1 = try await client.get(ReferenceGrantV1.self, name: "g", namespace: "default")
        #expect(v1.apiVersion == "gateway.networking.k8s.io/v1")
        await cluster.stop()
    }

    @Test func clusterLeavesOutTheCRDsItIsAskedTo() async throws {
        let dir = try TemporaryDirectory()
        let name = "referencegrants.gateway.networking.k8s.io"
        let cluster = try await LocalClusterInstance.start(
            options: LocalClusterOptions(directory: dir.url, withoutCRDs: [name]), components: [])
        let client = try cluster.makeClient()
        let crds = try await client.list(CustomResourceDefinition.self, namespace: nil).items.map(\.name)
        #expect(!crds.contains(name))
        await #expect(throws: KubeError.self) { try await client.list(ReferenceGrant.self, namespace: "default") }
        await cluster.stop()
    }

    @Test func stopCancelsComponentsBeforeTheServerGoes() async throws {
        let dir = try TemporaryDirectory()
        let probe = ProbeComponent()
        let cluster = try await LocalClusterInstance.start(options: LocalClusterOptions(directory: dir.url),
                                                           components: [probe])
        #expect(await probe.sawNamespace.wait())
        await cluster.stop()
        #expect(probe.finished.withLock { $0 })
    }
}

/// A component that lists namespaces through its context's client, then waits for cancellation.
final class ProbeComponent: ClusterComponent {
    let name = "probe"
    let sawNamespace = Flag()
    let finished = Mutex(false)

    func run(context: ComponentContext) async throws {
        defer { finished.withLock { $0 = true } }
        let list = try await context.client.list(Namespace.self, namespace: nil)
        if list.items.contains(where: { $0.name == "default" }) { await sawNamespace.set() }
        while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
    }
}
