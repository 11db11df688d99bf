import FerryCore
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1)))
struct LifecycleTests {
    static let legal: [(LifecyclePhase, LifecyclePhase)] = [
        (.created, .running), (.created, .stopping), (.running, .stopping), (.stopping, .stopped),
    ]
    static let all: [LifecyclePhase] = [.created, .running, .stopping, .stopped]

    @Test func onlyForwardStepsAreAccepted() {
        for from in Self.all {
            for to in Self.all {
                var phase = from
                let isLegal = Self.legal.contains { $0 == (from, to) }
                do {
                    try phase.transition(to: to, component: "part")
                    #expect(isLegal, "\(from) -> \(to) was accepted")
                    #expect(phase == to)
                } catch {
                    #expect(!isLegal, "\(from) -> \(to) was refused")
                    #expect(phase == from)
                    #expect(error.retry == .permanent)
                }
            }
        }
    }

    @Test func stoppingBeginsOnce() {
        var phase = LifecyclePhase.running
        let first = phase.beginStopping()
        let second = phase.beginStopping()
        #expect(first && !second)
        #expect(phase == .stopping)
    }

    @Test func waitUntilCancelledReturnsOnCancellationAndAtOnceWhenAlreadyCancelled() async {
        let task = Task { await waitUntilCancelled(); return Task.isCancelled }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        #expect(await task.value)
        let already = Task { withUnsafeCurrentTask { $0?.cancel() }; await waitUntilCancelled(); return true }
        #expect(await already.value)
    }

    struct Recorder: FerryService {
        let name: String
        let log: Log
        let fails: Bool
        func run() async throws {
            if fails { throw LifecycleError(component: name, from: .running, to: .running) }
            await waitUntilCancelled()
            log.add(name)
        }
    }
    final class Log: Sendable {
        let entries = Mutex<[String]>([])
        func add(_ s: String) { entries.withLock { $0.append(s) } }
    }

    @Test func aServiceThatFailsStopsTheOthersAndItsErrorIsRethrown() async {
        let log = Log()
        await #expect(throws: LifecycleError.self) {
            try await runServices([Recorder(name: "a", log: log, fails: false), Recorder(name: "b", log: log, fails: true),
                                   Recorder(name: "c", log: log, fails: false)])
        }
        #expect(log.entries.withLock { $0 }.sorted() == ["a", "c"])
    }

    @Test func cancellingTheGroupStopsEveryServiceAndReturnsNormally() async throws {
        let log = Log()
        let task = Task { try await runServices([Recorder(name: "a", log: log, fails: false), Recorder(name: "b", log: log, fails: false)]) }
        try? await Task.sleep(for: .milliseconds(20))
        task.cancel()
        try await task.value
        #expect(log.entries.withLock { $0 }.sorted() == ["a", "b"])
    }
}
