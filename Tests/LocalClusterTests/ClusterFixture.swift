import CurlHTTP
import Foundation
import HTTPTestSupport
import Kube
import KubeTestSupport
import LocalCluster
import Logging

/// The test API server plus simulated components running in-process against it, in a fresh cluster directory.
final class ClusterFixture: Sendable {
    let server: KubeAPIServer
    let client: KubeClient
    let directory: URL
    let options: LocalClusterOptions
    private let task: Task<Void, Never>
    static let token = "admin-token"

    init(components: [any ClusterComponent], nodes: Int = 1, crossNamespaceVolumeDataSource: Bool = false,
         images: [String: String] = [:]) throws {
        // The API server's own CrossNamespaceVolumeDataSource gate is on: components' gate flags are what these tests
        // vary (with the API server's gate off, a namespaced dataSourceRef never reaches them: it is dropped).
        server = try KubeAPIServer(installCRDs: true, bookmarkInterval: .milliseconds(300), crossNamespaceVolumeDataSource: true)
        server.addToken(Self.token, for: .init(name: "admin", groups: ["system:masters"]))
        let config = KubeConfig(server: server.baseURL,
                                tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                credentials: .bearerToken(Self.token), requestTimeout: .seconds(20))
        client = try KubeClient(config: config, logger: Logger(label: "cluster-test"))
        directory = URL(fileURLWithPath: "/tmp/ferry-lc-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        options = LocalClusterOptions(directory: directory, nodes: nodes,
                                      crossNamespaceVolumeDataSource: crossNamespaceVolumeDataSource, images: images)
        let context = ComponentContext(client: client, options: options, logger: Logger(label: "cluster-test"))
        task = Task {
            await withTaskGroup(of: Void.self) { group in
                for component in components {
                    group.addTask {
                        do { try await component.run(context: context) } catch {
                            if !Task.isCancelled { print("component \(component.name) failed: \(error)") }
                        }
                    }
                }
            }
        }
    }

    /// Stops the components, then the server, and removes the cluster directory.
    func stop() async {
        task.cancel()
        await task.value
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a started fixture and stops it afterwards, also on failure.
    static func with(_ components: [any ClusterComponent], nodes: Int = 1, crossNamespaceVolumeDataSource: Bool = false,
                     images: [String: String] = [:], _ body: (ClusterFixture) async throws -> Void) async throws {
        let fixture = try ClusterFixture(components: components, nodes: nodes,
                                         crossNamespaceVolumeDataSource: crossNamespaceVolumeDataSource, images: images)
        do { try await body(fixture) } catch {
            await fixture.stop()
            throw error
        }
        await fixture.stop()
    }

    func storageClass(_ name: String = "local", binding: String = "Immediate", reclaim: String = "Delete") async throws {
        var sc = StorageClass(name: name)
        sc.provisioner = LocalCSIDriver.driverName
        sc.volumeBindingMode = binding
        sc.reclaimPolicy = reclaim
        _ = try await client.create(sc)
    }

    static func claim(_ name: String, _ namespace: String = "default", storageClass: String = "local",
                      size: String = "1Mi") -> PersistentVolumeClaim {
        var pvc = PersistentVolumeClaim(name: name, namespace: namespace)
        pvc.spec.accessModes = ["ReadWriteOnce"]
        pvc.spec.storageClassName = storageClass
        pvc.spec.resources.requests = ["storage": size]
        return pvc
    }

    /// Events about an object, by reason.
    func events(for name: String, namespace: String = "default") async throws -> [CoreEvent] {
        try await client.list(CoreEvent.self, namespace: namespace,
                              options: ListOptions(fieldSelector: "involvedObject.name=\(name)")).items
    }
}
