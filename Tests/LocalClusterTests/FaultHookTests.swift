import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Logging
import Testing

/// Fault hooks: injected API errors per resource and verb, dropped watches, and a restart from the store after which
/// watchers relist.
@Suite(.serialized) struct FaultHookTests {
    func cluster() async throws -> (LocalClusterInstance, TemporaryDirectory) {
        let dir = try TemporaryDirectory()
        return (try await LocalClusterInstance.start(options: LocalClusterOptions(directory: dir.url), components: []), dir)
    }

    @Test func injectedErrorsHitOnlyTheirResourceAndVerb() async throws {
        let (cluster, dir) = try await cluster()
        _ = dir
        let client = try cluster.makeClient()
        cluster.server.inject(APIFault(verb: "create", resource: "configmaps", effect: .status(500), count: 1))
        cluster.server.inject(APIFault(verb: "get", resource: "configmaps", effect: .status(429, retryAfterSeconds: 1), count: 1))
        cluster.server.inject(APIFault(verb: "update", resource: "configmaps", effect: .status(409), count: 1))
        _ = try await client.create(Secret(name: "unaffected", namespace: "default"))
        do {
            _ = try await client.create(ConfigMap(name: "cm", namespace: "default"))
            Issue.record("expected the injected 500")
        } catch let e as KubeError { #expect(e.status == 500) }
        let cm = try await client.create(ConfigMap(name: "cm", namespace: "default"))
        // 429 with Retry-After: a client either reports it or waits the advertised second and retries.
        let start = ContinuousClock.now
        do {
            _ = try await client.get(ConfigMap.self, name: "cm", namespace: "default")
            #expect(ContinuousClock.now - start >= .seconds(1))
        } catch let e as KubeError {
            #expect(e.status == 429)
        }
        do {
            _ = try await client.update(cm)
            Issue.record("expected the injected 409")
        } catch let e as KubeError { #expect(e.code == .conflict) }
        _ = try await client.update(cm)
        await cluster.stop()
    }

    @Test func droppedWatchesAndARestartMakeWatchersResumeOrRelist() async throws {
        let (cluster, dir) = try await cluster()
        _ = dir
        let client = try cluster.makeClient()
        let informer = Informer<ConfigMap>(client: client, namespace: "default", logger: Logger(label: "test"))
        let task = Task { await informer.run() }
        defer { task.cancel() }
        #expect(await informer.waitForSync())
        _ = try await client.create(ConfigMap(name: "before", namespace: "default"))
        #expect(try await eventually { informer.get(ObjectKey(namespace: "default", name: "before")) != nil })
        cluster.server.dropWatches(resource: "configmaps")
        _ = try await client.create(ConfigMap(name: "after-drop", namespace: "default"))
        #expect(try await eventually { informer.get(ObjectKey(namespace: "default", name: "after-drop")) != nil })
        let port = cluster.server.port
        try cluster.server.restart()
        #expect(cluster.server.port == port)
        _ = try await client.create(ConfigMap(name: "after-restart", namespace: "default"))
        #expect(try await eventually { informer.get(ObjectKey(namespace: "default", name: "after-restart")) != nil })
        #expect(try await client.get(ConfigMap.self, name: "before", namespace: "default").name == "before")
        task.cancel()
        await cluster.stop()
    }
}
