import Foundation
import HTTPTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing

struct WatchTests {
    @Test func watchStreamsChangesFromAVersionWithBookmarks() async throws {
        let f = try Fixture()
        let list = try await f.client.list(PersistentVolumeClaim.self, namespace: "default")
        let stream = try await f.client.watch(PersistentVolumeClaim.self, namespace: "default",
                                              options: WatchOptions(resourceVersion: list.resourceVersion))
        var p = try await f.client.create(Fixture.pvc("w", "default"))
        p.metadata.labels["x"] = "1"
        _ = try await f.client.update(p)
        try await f.client.delete(PersistentVolumeClaim.self, name: "w", namespace: "default")
        var kinds: [String] = []
        var sawBookmark = false
        for try await event in stream {
            switch event {
            case .added: kinds.append("ADDED")
            case .modified: kinds.append("MODIFIED")
            case .deleted: kinds.append("DELETED")
            case .bookmark(let rv): sawBookmark = !rv.isEmpty
            }
            if kinds.count == 3, sawBookmark { break }
        }
        #expect(kinds == ["ADDED", "MODIFIED", "DELETED"])
    }

    @Test func watchResumesFromTheLastSeenVersion() async throws {
        let f = try Fixture()
        _ = try await f.client.create(Fixture.pvc("a", "default"))
        let start = try await f.client.list(PersistentVolumeClaim.self, namespace: "default").resourceVersion
        _ = try await f.client.create(Fixture.pvc("b", "default"))
        var lastRV = start
        for try await event in try await f.client.watch(PersistentVolumeClaim.self, namespace: "default",
                                                        options: WatchOptions(resourceVersion: start)) {
            if case .added(let o) = event { #expect(o.name == "b"); lastRV = o.metadata.resourceVersion ?? ""; break }
        }
        _ = try await f.client.create(Fixture.pvc("c", "default"))  // happens while no watch is open
        for try await event in try await f.client.watch(PersistentVolumeClaim.self, namespace: "default",
                                                        options: WatchOptions(resourceVersion: lastRV)) {
            if case .added(let o) = event { #expect(o.name == "c"); break }  // b is not replayed
        }
    }

    @Test func watchingACompactedVersionIsGone() async throws {
        let f = try Fixture()
        let rv = try await f.client.list(PersistentVolumeClaim.self, namespace: "default").resourceVersion
        _ = try await f.client.create(Fixture.pvc("a", "default"))
        f.server.compact()
        let error = await #expect(throws: KubeError.self) {
            for try await _ in try await f.client.watch(PersistentVolumeClaim.self, namespace: "default",
                                                        options: WatchOptions(resourceVersion: rv)) {}
        }
        #expect(error?.code == .gone)
    }

    @Test func labelSelectedWatchSeesObjectsEnterAndLeave() async throws {
        let f = try Fixture()
        let rv = try await f.client.list(PersistentVolumeClaim.self, namespace: "default").resourceVersion
        var p = try await f.client.create(Fixture.pvc("sel", "default"))
        p.metadata.labels["ferry.io/managed"] = "true"
        p = try await f.client.update(p)
        p.metadata.labels = [:]
        _ = try await f.client.update(p)
        var seen: [String] = []
        for try await e in try await f.client.watch(PersistentVolumeClaim.self, namespace: "default", options: WatchOptions(
            resourceVersion: rv, labelSelector: "ferry.io/managed=true", allowBookmarks: false)) {
            switch e { case .added: seen.append("ADDED"); case .deleted: seen.append("DELETED"); default: seen.append("OTHER") }
            if seen.count == 2 { break }
        }
        #expect(seen == ["ADDED", "DELETED"])
    }
}

struct InformerTests {
    @Test(arguments: [Informer<PersistentVolumeClaim>.Storage.decoded, .compact])
    func cacheStaysConsistentUnderABurstOfTenThousandUpdates(storage: Informer<PersistentVolumeClaim>.Storage) async throws {
        let f = try Fixture()
        for i in 0..<100 { _ = try await f.client.create(Fixture.pvc("p\(i)", "default", labels: ["n": "\(i % 10)"])) }
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: nil, storage: storage, logger: Logger(label: "t"))
        informer.addNamespaceIndexer()
        informer.addIndexer("n") { [$0.metadata.labels["n"] ?? ""] }
        let updates = Counter()
        informer.addHandler { e in if case .updated = e { updates.increment() } }
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        #expect(informer.count == 100)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for round in 0..<1250 {
                        let name = "p\((worker * 1250 + round) % 100)"
                        _ = try await f.client.patch(PersistentVolumeClaim.self, name: name, namespace: "default",
                                                     mergePatch: ["metadata": ["annotations": ["round": .string("\(worker)-\(round)")]]])
                    }
                }
            }
            try await group.waitForAll()
        }
        let truth = try await f.client.list(PersistentVolumeClaim.self, namespace: "default")
        let consistent = await eventually {
            truth.items.allSatisfy { informer.get($0.key)?.metadata.resourceVersion == $0.metadata.resourceVersion }
        }
        #expect(consistent)
        #expect(updates.value == 10_000)
        #expect(informer.byNamespace("default").count == 100)
        #expect(informer.byIndex("n", "3").count == 10)
    }

    @Test(arguments: [Informer<PersistentVolumeClaim>.Storage.decoded, .compact])
    func relistAfterGoneReconcilesTheCache(storage: Informer<PersistentVolumeClaim>.Storage) async throws {
        let f = try Fixture()
        _ = try await f.client.create(Fixture.pvc("stay", "default"))
        _ = try await f.client.create(Fixture.pvc("leave", "default"))
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: "default", storage: storage,
                                                       logger: Logger(label: "t"))
        let deletions = Counter()
        informer.addHandler { e in if case .deleted = e { deletions.increment() } }
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        // Break the watch, change things while it is down, and compact so its version is too old.
        f.server.compact()
        try await f.client.delete(PersistentVolumeClaim.self, name: "leave", namespace: "default")
        _ = try await f.client.create(Fixture.pvc("new", "default"))
        f.server.compact()
        f.server.dropAllConnections()
        let ok = await eventually { Set(informer.list().map(\.name)) == ["stay", "new"] }
        #expect(ok)
        #expect(deletions.value >= 1)
    }
}

struct WorkQueueTests {
    @Test func keysAreDeduplicatedAndNeverProcessedTwiceAtOnce() async {
        let q = WorkQueue<ObjectKey>()
        let a = ObjectKey(namespace: "ns", name: "a")
        await q.add(a)
        await q.add(a)
        await q.add(ObjectKey(namespace: "ns", name: "b"))
        #expect(await q.count == 2)
        let first = await q.get()
        #expect(first == a)
        await q.add(a)  // while processing: held back until done
        #expect(await q.count == 1)
        await q.done(a)
        #expect(await q.count == 2)
    }

    @Test func rateLimitedRetriesBackOffAndForgetResets() async {
        let q = WorkQueue<String>(rateLimit: .init(baseDelay: .milliseconds(1), maxDelay: .milliseconds(50)))
        for _ in 0..<3 { await q.addRateLimited("k") }
        #expect(await q.retries("k") == 3)
        #expect(await q.get() == "k")
        await q.forget("k")
        #expect(await q.retries("k") == 0)
        await q.shutDown()
    }

    @Test func shutDownReleasesWaiters() async {
        let q = WorkQueue<String>()
        let waiter = Task { await q.get() }
        try? await Task.sleep(for: .milliseconds(20))
        await q.shutDown()
        #expect(await waiter.value == nil)
    }
}

final class Counter: Sendable {
    private let box = LockedBox(0)
    func increment() { box.withLock { $0 += 1 } }
    var value: Int { box.withLock { $0 } }
}
