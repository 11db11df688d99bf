// local-apiserver-bench: throughput of the local control plane's API server (issue 11, item 7) with 10,000 PVCs stored.
// Prints JSON. Baseline in the same run: GET /version round trips over the same HTTPS transport (no store work).
// Run through Benchmarks/bench-local-apiserver.sh (release build). Figures are printed, not asserted.
import CurlHTTP
import Foundation
import Kube
import LocalCluster
import LocalHTTPS
import Logging
import Synchronization

let env = ProcessInfo.processInfo.environment
let stored = Int(env["STORED"] ?? "") ?? 10_000
let writers = Int(env["WRITERS"] ?? "") ?? 16
let seconds = Double(env["SECONDS_PER_PHASE"] ?? "") ?? 4
let watchers = Int(env["WATCHERS"] ?? "") ?? 5

let server = try KubeAPIServer(bookmarkInterval: .seconds(5))
server.addToken("bench", for: .init(name: "bench", groups: ["system:masters"]))
func makeClient() throws -> KubeClient {
    try KubeClient(config: KubeConfig(server: server.baseURL,
                                      tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                      credentials: .bearerToken("bench"), requestTimeout: .seconds(60)),
                   logger: Logger(label: "bench"))
}
let client = try makeClient()

/// A shared counter tasks bump.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Runs `workers` tasks calling `op(worker, i)` until `seconds` pass; returns operations per second.
func rate(_ workers: Int, _ op: @escaping @Sendable (Int, Int) async throws -> Void) async throws -> Double {
    let count = Counter()
    let start = ContinuousClock.now
    let end = start + .milliseconds(Int(seconds * 1000))
    try await withThrowingTaskGroup(of: Void.self) { group in
        for w in 0..<workers {
            group.addTask {
                var i = 0
                while ContinuousClock.now < end {
                    try await op(w, i)
                    i += 1
                    count.add()
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    return Double(count.current) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

// Baseline: the transport alone.
let versionRate = try await rate(writers) { _, _ in _ = try await client.serverVersion() }

// 10,000 PVCs stored (seeded in-process: validation and store, no HTTP).
let seedStart = ContinuousClock.now
for i in 0..<stored {
    var pvc = PersistentVolumeClaim(name: "pvc-\(i)", namespace: "default")
    pvc.spec.accessModes = ["ReadWriteOnce"]
    pvc.spec.resources.requests = ["storage": "1Gi"]
    pvc.spec.storageClassName = "fast"
    try server.seed(pvc)
}
let seedSeconds = Double((ContinuousClock.now - seedStart).components.attoseconds) / 1e18
    + Double((ContinuousClock.now - seedStart).components.seconds)
let startRV = server.currentResourceVersion

// Watchers during the write phase: each counts the events it receives.
let received = Counter()
let watchClient = try makeClient()
var watchTasks: [Task<Void, Never>] = []
for _ in 0..<watchers {
    watchTasks.append(Task {
        do {
            for try await event in try await watchClient.watch(PersistentVolumeClaim.self, namespace: nil,
                                                               options: WatchOptions(resourceVersion: startRV, allowBookmarks: false)) {
                if case .bookmark = event { continue }
                received.add()
            }
        } catch {}
    })
}
try await Task.sleep(for: .milliseconds(300))

// Writes: merge patches of labels on distinct PVCs (each a full write: validation, resourceVersion, history, watch fan-out).
let writeStart = ContinuousClock.now
let writeRate = try await rate(writers) { w, i in
    let name = "pvc-\((w * 7919 + i * writers) % stored)"
    _ = try await client.patch(PersistentVolumeClaim.self, name: name, namespace: "default",
                               mergePatch: ["metadata": ["labels": ["round": .string("\(w)-\(i)")]]])
}
let endRV = server.currentResourceVersion
let writes = (Int(endRV) ?? 0) - (Int(startRV) ?? 0)
// Let the watchers drain.
let drainDeadline = ContinuousClock.now + .seconds(60)
while received.current < writes * watchers, ContinuousClock.now < drainDeadline {
    try await Task.sleep(for: .milliseconds(20))
}
let fanoutElapsed = ContinuousClock.now - writeStart
let fanoutSeconds = Double(fanoutElapsed.components.seconds) + Double(fanoutElapsed.components.attoseconds) / 1e18
let fanoutRate = Double(received.current) / fanoutSeconds
for t in watchTasks { t.cancel() }

// Replay: one watch from the version before the writes streams every change as fast as it can be read.
let replayStart = ContinuousClock.now
var replayed = 0
for try await event in try await watchClient.watch(PersistentVolumeClaim.self, namespace: nil,
                                                   options: WatchOptions(resourceVersion: startRV, allowBookmarks: false)) {
    if case .bookmark = event { continue }
    replayed += 1
    if replayed >= writes { break }
}
let replayElapsed = ContinuousClock.now - replayStart
let replaySeconds = Double(replayElapsed.components.seconds) + Double(replayElapsed.components.attoseconds) / 1e18

let result: JSONValue = [
    "stored_pvcs": .int(Int64(stored)), "writers": .int(Int64(writers)), "watchers": .int(Int64(watchers)),
    "seed_per_s": .double((Double(stored) / seedSeconds).rounded()),
    "baseline_version_get_per_s": .double(versionRate.rounded()),
    "writes_per_s": .double(writeRate.rounded()),
    "writes_vs_baseline": .double((writeRate / versionRate * 100).rounded() / 100),
    "watch_fanout_events_per_s": .double(fanoutRate.rounded()),
    "watch_events_delivered": .int(Int64(received.current)),
    "watch_replay_events_per_s": .double((Double(replayed) / replaySeconds).rounded()),
    "cores": .int(Int64(ProcessInfo.processInfo.activeProcessorCount)),
]
print(JSONCoding.string(result))
server.stop()
