import Foundation
import Kube
import KubeTestSupport
import Logging
import Testing

/// Figures for Benchmarks/kube.sh; runs only with FERRY_BENCH=1 and asserts nothing about time.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["FERRY_BENCH"] != nil))
struct KubeBenchmarks {
    static func rssBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Int(s.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func watchEventThroughputAndInformerMemory() async throws {
        let f = try Fixture()
        let n = 10_000
        let start = try await f.client.list(PersistentVolumeClaim.self, namespace: "default").resourceVersion
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<8 {
                group.addTask {
                    for i in stride(from: w, to: n, by: 8) {
                        var p = Fixture.pvc("pvc-\(i)", "default", labels: ["app": "bench", "i": "\(i)"])
                        p.metadata.annotations = ["ferry.io/source": "production/webapp", "ferry.io/snapshot": "k\(i)"]
                        _ = try await f.client.create(p)
                    }
                }
            }
            try await group.waitForAll()
        }
        // Throughput: replay the 10,000 ADDED events from history through one watch (transport + JSON decode).
        let clock = ContinuousClock()
        var seen = 0
        let elapsed = try await clock.measure {
            for try await event in try await f.client.watch(PersistentVolumeClaim.self, namespace: "default",
                                                            options: WatchOptions(resourceVersion: start, allowBookmarks: false)) {
                if case .added = event { seen += 1 }
                if seen == n { break }
            }
        }
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "BENCH watch: %d events in %.3f s = %.0f events/s", n, secs, Double(n) / secs))
        // Memory: RSS growth while an informer lists and caches the 10,000 PVCs.
        let before = Self.rssBytes()
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: "default", logger: Logger(label: "bench"))
        informer.addNamespaceIndexer()
        let task = Task { await informer.run() }
        await informer.waitForSync()
        let after = Self.rssBytes()
        task.cancel()
        #expect(informer.count == n)
        print(String(format: "BENCH informer: %d PVCs cached, RSS +%.1f MiB (%.0f bytes/PVC)", informer.count,
                     Double(after - before) / 1_048_576, Double(after - before) / Double(n)))
    }
}
