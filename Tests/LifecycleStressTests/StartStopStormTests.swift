import CurlHTTP
import FerryCore
import FerryTestSupport
import Foundation
import GRPCTransport
import HTTPTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing

/// Issue 17's "done when": the gRPC server, channel, HTTP client, an informer and the leader elector are started
/// and stopped 200 times while calls are in flight and tasks are cancelled at random moments. Run under
/// AddressSanitizer by `make test` (its own step): no leak, no crash; a watchdog turns a hang into a crash with
/// every thread's backtrace (a deadlock on the 2-thread pool defeats `.timeLimit`); the thread census at the end
/// catches a thread left behind. The census counts the whole process's threads: run the suite in a process of its
/// own (scripts/run-tests.sh's `lifecycle` group and the Makefile's ASan step do), not next to other suites.
///
/// History: in fresh-clone CI runs this process "hung at exit". It was not at exit: the main thread always sits in
/// Dispatch's sigsuspend, and two pool threads had deadlocked — `Informer.waitForSync()`'s cancellation handler
/// against the first list resuming the waiters under the informer's lock (InformerSyncRaceTests). The storm also
/// aborted in gRPC core now and then (a call's batch started on a shut-down queue, ChannelStopRaceTests; later the
/// server's twin: a call core matched just before shutdown and delivered after it, GRPCServer's `pendingRequests`).
/// Under LeakSanitizer about one run in 30 reported OpenSSL objects leaked at exit: threads that ended after the
/// test (the test HTTPS server's, woken by its stop) still held OpenSSL thread state when OpenSSL's exit handler ran;
/// stop now waits for them, and they free that state themselves first (ClientLifecycleTests).
@Suite(.timeLimit(.minutes(4)))
struct StartStopStormTests {
    static let cycles = 200
    static let logger: Logger = {
        var logger = Logger(label: "ferry.test.storm")
        logger.logLevel = .warning
        return logger
    }()

    /// Names of this process's threads, from /proc.
    static func threadNames() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap {
            (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Names (with counts) that `to` has more of than `from`.
    static func added(from: [String], to: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for name in to { counts[name, default: 0] += 1 }
        for name in from { counts[name, default: 0] -= 1 }
        return counts.filter { $0.value > 0 }
    }

    /// Threads gRPC core starts on grpc_init and joins on the last grpc_shutdown (Debian's libgrpc 1.51).
    static let grpcCoreThreadNames: Set<String> = [
        "default-executo", "resolver-execut", "grpc_global_tim", "timer_manager", "event_engine", "grpc_shutdown",
    ]

    /// Threads Ferry's transports start (completion queues, their joiners, curl loops).
    static func ferryThreads() -> [String] {
        threadNames().filter { $0.hasPrefix("ferry-grpc") || $0.hasPrefix("ferry-curl") }
    }

    static let handlers: [String: UnaryHandler] = [
        "/storm.S/Echo": { request, _ in request },
        "/storm.S/Slow": { request, _ in try await Task.sleep(for: .milliseconds(Int(request.first ?? 1))); return request },
    ]

    @Test func twoHundredStartStopCyclesUnderACancellationStormLeaveNothingBehind() async throws {
        let api = try KubeAPIServer(installCRDs: false, bookmarkInterval: .milliseconds(50))
        defer { api.stop() }
        api.addToken("storm", for: .init(name: "admin"))
        let config = KubeConfig(server: api.baseURL, tls: TLSOptions(certificateAuthority: .file(api.certificates.caCertificate)),
                                credentials: .bearerToken("storm"), requestTimeout: .seconds(10))
        let directory = "/tmp/ferry-storm-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let random = SeededRandomSource(seed: 0x17B)
        let baselineFerry = Self.ferryThreads().count
        var threadsAfterWarmUp: [String] = []
        var completedCalls = 0
        var cancelledCalls = 0
        let start = ContinuousClock.now
        // A deadlock takes the 2-thread pool with it (.timeLimit never fires): the watchdog crashes the process with
        // every thread's backtrace instead of leaving it hanging without output.
        try await withHangWatchdog("the start/stop storm", timeout: .seconds(180)) {
            for cycle in 0..<Self.cycles {
                let outcome = try await Self.cycle(cycle, directory: directory, config: config, random: random)
                completedCalls += outcome.completed
                cancelledCalls += outcome.cancelled
                if cycle == 9 { threadsAfterWarmUp = Self.threadNames() }
            }
        }
        let elapsed = ContinuousClock.now - start

        // No Ferry thread left: completion-queue threads are joined before stop returns; joiner and curl threads
        // exit right after resuming their waiter, so allow the kernel a moment.
        var leftover = Self.ferryThreads()
        for _ in 0..<200 where leftover.count > baselineFerry {
            try await Task.sleep(for: .milliseconds(10))
            leftover = Self.ferryThreads()
        }
        #expect(leftover.count <= baselineFerry, "threads left behind: \(leftover)")
        // gRPC core runs threads of its own (executors, timers, event engine) while it is initialised and stops them
        // on the last grpc_shutdown. They are not counted below: they come and go with gRPC's references, and gRPC
        // keeps internal references for a while after the last server and channel stopped (15 s to over 90 s after
        // this storm, see issue 17's note). Reported, not asserted.
        let grpcCoreAtEnd = Self.threadNames().filter(Self.grpcCoreThreadNames.contains)
        // Nothing else grows with the cycles. The test API server's connection threads end once their client's
        // connection is closed: let them settle.
        func others() -> [String] { Self.threadNames().filter { !Self.grpcCoreThreadNames.contains($0) } }
        let othersAfterWarmUp = threadsAfterWarmUp.filter { !Self.grpcCoreThreadNames.contains($0) }
        var names = others()
        for _ in 0..<300 where names.count > othersAfterWarmUp.count + 4 {
            try await Task.sleep(for: .milliseconds(10))
            names = others()
        }
        #expect(names.count <= othersAfterWarmUp.count + 4, """
            threads after warm-up \(othersAfterWarmUp.count), at the end \(names.count) (without gRPC core's); \
            added: \(Self.added(from: othersAfterWarmUp, to: names))
            """)
        // The storm did both: calls completed, and calls were cut off by cancellation.
        #expect(completedCalls > Self.cycles)
        #expect(cancelledCalls > 0)
        print("storm: \(Self.cycles) cycles in \(elapsed), \(completedCalls) calls completed, \(cancelledCalls) cut off; "
              + "gRPC core threads at the end: \(grpcCoreAtEnd.count)")
    }

    struct Outcome { var completed = 0; var cancelled = 0 }

    /// One cycle: start everything as services, call through it, cancel at a random moment, check it all stopped.
    static func cycle(_ n: Int, directory: String, config: KubeConfig, random: SeededRandomSource) async throws -> Outcome {
        let socket = "\(directory)/s\(n % 8).sock"
        let server = try GRPCServer(configuration: .init(address: socket, pendingAccepts: 2, busyPoll: n % 2 == 0 ? .zero : .microseconds(50)),
                                    handlers: handlers, logger: logger)
        let channel = try GRPCChannel(target: socket, configuration: .init(busyPoll: .zero), logger: logger)
        let http = try HTTPClient(configuration: HTTPClientConfiguration(tls: config.tls), logger: logger)
        let kube = try KubeClient(config: config, logger: logger)
        let informer = Informer<Lease>(client: kube, namespace: "default", logger: logger)
        let elector = LeaderElector(client: kube, configuration: .init(
            leaseName: "storm-\(n % 3)", leaseNamespace: "default", identity: "cycle-\(n)", leaseDuration: .seconds(1),
            renewDeadline: .milliseconds(800), retryPeriod: .milliseconds(20)), logger: logger)
        let calls = Counter()
        if n == 0 {
            // The census below is only worth something if it sees these threads: every part's thread is named.
            var seen = Set(ferryThreads())
            for _ in 0..<200 where !seen.isSuperset(of: ["ferry-grpc-srv", "ferry-grpc-cli", "ferry-curl"]) {
                try await Task.sleep(for: .milliseconds(5))
                seen = Set(ferryThreads())
            }
            #expect(seen.isSuperset(of: ["ferry-grpc-srv", "ferry-grpc-cli", "ferry-curl"]), "named threads: \(seen)")
        }

        let services = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run(gracePeriod: .milliseconds(20)) }
                group.addTask { try await channel.run() }
                group.addTask { try await http.run() }
                group.addTask { await informer.run() }
                group.addTask { try await elector.run { await waitUntilCancelled() } }
                group.addTask { await informer.waitForSync() }
                // Callers whose own tasks are cancelled at random while their calls are in flight.
                for caller in 0..<3 {
                    group.addTask {
                        while !Task.isCancelled {
                            let delay = UInt8(1 + random.next() % 4)
                            let call = Task { () async throws -> Void in
                                switch caller {
                                case 0: _ = try await channel.unary(method: "/storm.S/Slow", request: [delay],
                                                                    options: .init(timeout: .seconds(5)))
                                case 1: _ = try await http.execute(HTTPRequest(url: config.server + "/version",
                                                                               headers: ["Authorization": "Bearer storm"]))
                                default: _ = try await kube.serverVersion()
                                }
                            }
                            if random.next() % 3 == 0 {
                                try? await Task.sleep(for: .microseconds(Int(random.next() % 3000)))
                                call.cancel()
                            }
                            switch await call.result {
                            case .success: calls.completed()
                            case .failure: calls.cutOff()
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .microseconds(Int(500 + random.next() % 20_000)))
        services.cancel()
        do { try await services.value } catch { Issue.record("cycle \(n): a service threw \(error)") }
        await kube.stop()

        #expect(server.phase == .stopped, "cycle \(n)")
        #expect(channel.phase == .stopped, "cycle \(n)")
        #expect(http.phase == .stopped, "cycle \(n)")
        #expect(!FileManager.default.fileExists(atPath: socket), "cycle \(n): socket left behind")
        return Outcome(completed: calls.completedCount, cancelled: calls.cutOffCount)
    }
}

final class Counter: Sendable {
    private let box = LockedBox((0, 0))
    func completed() { box.withLock { $0.0 += 1 } }
    func cutOff() { box.withLock { $0.1 += 1 } }
    var completedCount: Int { box.withLock { $0.0 } }
    var cutOffCount: Int { box.withLock { $0.1 } }
}
