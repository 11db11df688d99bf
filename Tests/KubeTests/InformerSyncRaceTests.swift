import FerryTestSupport
import Foundation
import Kube
import Logging
import Synchronization
import Testing

/// `Informer.waitForSync()`'s cancellation handler takes the informer's lock. The first list used to resume the
/// sync waiters while still holding that lock; resuming takes the waiting task's status lock, which a concurrent
/// `Task.cancel()` holds while it runs the handler. A waiter cancelled while the list landed therefore deadlocked
/// two threads — on a 2-core machine the whole cooperative pool, so the test process hung without output (the
/// start/stop storm's "hang at exit"). The watchdog turns a hang into a crash with every thread's backtrace.
struct InformerSyncRaceTests {
    static let rounds = 12
    static let waitersPerRound = 300

    @Test func cancellingSyncWaitersWhileTheFirstListLandsNeverDeadlocks() async throws {
        let f = try Fixture(installCRDs: false)
        var logger = Logger(label: "ferry.test.informer-race")
        logger.logLevel = .warning
        var synced = 0
        var cancelled = 0
        try await withHangWatchdog("cancelling Informer.waitForSync() waiters during the first list", timeout: .seconds(60)) {
            for round in 0..<Self.rounds {
                let informer = Informer<Lease>(client: f.client, namespace: "default", logger: logger)
                let waiters = (0..<Self.waitersPerRound).map { _ in Task { await informer.waitForSync() } }
                try await Task.sleep(for: .milliseconds(10))  // let them register
                // A dedicated thread cancels the waiters one by one, spread over the time the list takes, so
                // cancellations land before, during and after the list resumes the waiters.
                let spacing = Duration.microseconds(5 + 10 * (round % 4))
                let sweep = Task { await cancelOneByOne(waiters, spacing: spacing) }
                let run = Task { await informer.run() }
                await sweep.value
                for waiter in waiters {
                    if await waiter.value { synced += 1 } else { cancelled += 1 }
                }
                run.cancel()
                await run.value
            }
        }
        await f.client.stop()
        // Both outcomes occurred, so cancellations really raced the list (the window the deadlock needed).
        #expect(synced > 0, "no waiter saw the sync")
        #expect(cancelled > 0, "no waiter was cancelled before the sync")
    }
}

/// Cancels `tasks` in order from a new OS thread, `spacing` apart (busy-waiting: sleeps are too coarse), and
/// returns when all are cancelled. The cancellation handlers run on that thread, as they would in any
/// `Task.cancel()` caller.
func cancelOneByOne(_ tasks: [Task<Bool, Never>], spacing: Duration) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let thread = Thread {
            let clock = ContinuousClock()
            var next = clock.now
            for task in tasks {
                while clock.now < next {}
                task.cancel()
                next = next.advanced(by: spacing)
            }
            done.resume()
        }
        thread.name = "test-canceller"
        thread.start()
    }
}
