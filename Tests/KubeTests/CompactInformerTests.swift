import Foundation
import HTTPTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing

/// An informer holding its objects packed (`Storage.compact`) behaves exactly like one holding them decoded.
struct CompactInformerTests {
    final class Events: Sendable {
        private let box = LockedBox<[String]>([])
        func add(_ e: String) { box.withLock { $0.append(e) } }
        var all: [String] { box.withLock { $0 } }
    }

    static func describe(_ e: InformerEvent<PersistentVolumeClaim>) -> String {
        switch e {
        case .added(let o): "added \(o.name) \(o.metadata.annotations["note"] ?? "")"
        case .updated(let old, let new): "updated \(new.name) \(old.metadata.annotations["note"] ?? "")→\(new.metadata.annotations["note"] ?? "")"
        case .deleted(let o): "deleted \(o.name)"
        }
    }

    @Test func objectsComeBackIntactThroughListWatchUpdateAndDelete() async throws {
        let f = try Fixture()
        var first = Fixture.pvc("unicode-before-start", "default", labels: ["tier": "a"])
        first.metadata.annotations = ["note": CompactJSONTests.unicode, "big": String(repeating: "🚢x", count: 40_000)]
        _ = try await f.client.create(first)
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: nil, storage: .compact, logger: Logger(label: "t"))
        informer.addNamespaceIndexer()
        informer.addIndexer("tier") { o in o.metadata.labels["tier"].map { [$0] } ?? [] }
        let events = Events()
        informer.addHandler { events.add(Self.describe($0)) }
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()

        // From the list: every field as the server has it.
        let truth = try await f.client.get(PersistentVolumeClaim.self, name: first.name, namespace: "default")
        #expect(informer.get(truth.key) == truth)
        #expect(informer.get(truth.key)?.metadata.annotations["note"] == CompactJSONTests.unicode)
        #expect(events.all == ["added \(first.name) \(CompactJSONTests.unicode)"])
        let bytesWithOne = informer.storedBytes
        #expect(bytesWithOne > 200_000 && bytesWithOne < 260_000, "stored \(bytesWithOne) bytes")

        // From the watch: adds, an update (old and new both decoded), a delete.
        for i in 0..<20 { _ = try await f.client.create(Fixture.pvc("p\(i)", "default", labels: ["tier": i % 2 == 0 ? "a" : "b"])) }
        var changed = try await f.client.get(PersistentVolumeClaim.self, name: "p3", namespace: "default")
        changed.metadata.annotations = ["note": "🚢 v2"]
        changed.metadata.labels = ["tier": "a"]
        changed = try await f.client.update(changed)
        try await f.client.delete(PersistentVolumeClaim.self, name: "p4", namespace: "default")
        let caughtUp = await eventually { informer.count == 20 && informer.get(changed.key) == changed }
        #expect(caughtUp)
        #expect(informer.get(name: "p4", namespace: "default") == nil)
        #expect(events.all.contains("updated p3 →🚢 v2"))
        #expect(events.all.contains("deleted p4"))
        // Indexes follow updates and deletes: p3 moved from b to a, p4 (a) left.
        #expect(Set(informer.keys(byIndex: "tier", "a").map { $0.name }) == Set(["unicode-before-start", "p0", "p2", "p3", "p6", "p8", "p10", "p12", "p14", "p16", "p18"]))
        #expect(Set(informer.byIndex("tier", "b").map { $0.name }) == Set(["p1", "p5", "p7", "p9", "p11", "p13", "p15", "p17", "p19"]))
        #expect(informer.byNamespace("default").count == 20)
        #expect(Set(informer.list().map(\.key)) == Set(informer.keys()))
        let all = try await f.client.list(PersistentVolumeClaim.self, namespace: "default")
        for o in all.items { #expect(informer.get(o.key) == o) }

        // Memory accounting follows deletes.
        let before = informer.storedBytes
        try await f.client.delete(PersistentVolumeClaim.self, name: first.name, namespace: "default")
        let shrank = await eventually { informer.storedBytes < before - 100_000 }
        #expect(shrank)
        let perClaim = informer.storedBytes / informer.count
        #expect(perClaim < 400, "\(perClaim) bytes per small claim")
    }

    @Test func relistReportsWhatChangedWhileTheWatchWasDown() async throws {
        let f = try Fixture()
        for name in ["stay", "change", "leave"] { _ = try await f.client.create(Fixture.pvc(name, "default")) }
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: "default", pageSize: 2,
                                                       storage: .compact, logger: Logger(label: "t"))
        informer.addIndexer("note") { o in o.metadata.annotations["note"].map { [$0] } ?? [] }
        let events = Events()
        informer.addHandler { events.add(Self.describe($0)) }
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        // Sync waiters resume before the list's handlers run.
        let listed = await eventually { events.all.count == 3 }
        #expect(listed)
        #expect(Set(events.all) == ["added stay ", "added change ", "added leave "])

        f.server.compact()
        var c = try await f.client.get(PersistentVolumeClaim.self, name: "change", namespace: "default")
        c.metadata.annotations = ["note": "while-down"]
        _ = try await f.client.update(c)
        try await f.client.delete(PersistentVolumeClaim.self, name: "leave", namespace: "default")
        _ = try await f.client.create(Fixture.pvc("new", "default"))
        f.server.compact()
        f.server.dropAllConnections()
        let relisted = await eventually { Set(informer.keys().map { $0.name }) == ["stay", "change", "new"] }
        #expect(relisted)
        #expect(informer.relistCount >= 1)
        let later = Array(events.all.dropFirst(3))
        #expect(Set(later) == ["updated change →while-down", "deleted leave", "added new "])
        #expect(informer.keys(byIndex: "note", "while-down").map { $0.name } == ["change"])
        #expect(informer.get(name: "change", namespace: "default")?.metadata.annotations["note"] == "while-down")
    }

    @Test func transformAppliesToListedAndWatchedObjects() async throws {
        let f = try Fixture()
        _ = try await f.client.create(Fixture.pvc("listed", "default", labels: ["drop": "me", "keep": "1"]))
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: nil, storage: .compact, transform: { o in
            var o = o
            o.metadata.labels["drop"] = nil
            return o
        }, logger: Logger(label: "t"))
        let seen = Events()
        informer.addHandler { e in if case .added(let o) = e { seen.add(o.metadata.labels.keys.sorted().joined(separator: ",")) } }
        let task = Task { await informer.run() }
        defer { task.cancel() }
        await informer.waitForSync()
        _ = try await f.client.create(Fixture.pvc("watched", "default", labels: ["drop": "me", "keep": "2"]))
        let both = await eventually { informer.count == 2 && seen.all.count == 2 }
        #expect(both)
        #expect(informer.list().allSatisfy { $0.metadata.labels == ["keep": $0.name == "listed" ? "1" : "2"] })
        #expect(seen.all == ["keep", "keep"])
    }

    @Test func droppingManagedFieldsKeepsEverythingElse() throws {
        var o = Fixture.pvc("p", "default", labels: ["a": "b"])
        o.metadata.annotations = ["kubectl.kubernetes.io/last-applied-configuration": "{}"]
        let plain = o
        o.metadata.object["managedFields"] = [["manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                                               "fieldsV1": ["f:spec": ["f:resources": [:]]]]]
        let dropped = Informer<PersistentVolumeClaim>.droppingManagedFields(o)
        #expect(dropped == plain)
        #expect(Informer<PersistentVolumeClaim>.droppingManagedFields(plain) == plain)
    }
}
