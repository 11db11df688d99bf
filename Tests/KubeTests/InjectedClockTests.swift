import FerryCore
import FerryTestSupport
import Foundation
import HTTPTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing

/// Lease times, event timestamps and work-queue delays follow the injected clock: no test sleeps on real time.
@Suite(.timeLimit(.minutes(2)))
struct InjectedClockTests {
    /// A random source whose jitter is always zero.
    struct NoJitter: RandomSource { func next() -> UInt64 { 0 } }

    @Test func aCandidateTakesAStaleLeaseOnlyAfterTheLeaseDurationOnItsOwnClock() async throws {
        let f = try Fixture()
        var lease = Lease(name: "ferry", namespace: "default")
        lease.spec.holderIdentity = "gone"
        lease.spec.leaseDurationSeconds = 15
        lease.spec.leaseTransitions = 4
        _ = try await f.client.create(lease)

        let clock = ManualClock()
        let elector = LeaderElector(client: f.client, configuration: .init(
            leaseName: "ferry", leaseNamespace: "default", identity: "b", leaseDuration: .seconds(15),
            renewDeadline: .seconds(10), retryPeriod: .seconds(2)), clock: clock, random: NoJitter(),
            logger: Logger(label: "b"))
        let leading = LockedBox(false)
        let task = Task { try await elector.run { leading.withLock { $0 = true }; try await Task.sleep(for: .seconds(600)) } }
        // Seven retry periods (14 s) < 15 s: the lease is still "gone"'s.
        for _ in 0..<7 {
            await clock.waitForSleepers(1)
            #expect(!leading.withLock { $0 })
            clock.advance(by: .seconds(2))
        }
        await clock.waitForSleepers(1)
        #expect(!leading.withLock { $0 })
        #expect(try await f.client.get(Lease.self, name: "ferry", namespace: "default").spec.holderIdentity == "gone")
        clock.advance(by: .seconds(2))  // 16 s since b first saw the record
        #expect(await eventually { leading.withLock { $0 } })
        let taken = try await f.client.get(Lease.self, name: "ferry", namespace: "default")
        #expect(taken.spec.holderIdentity == "b")
        #expect(taken.spec.leaseTransitions == 5)
        #expect(taken.spec.acquireTime == "2027-01-15T08:00:16.000Z")  // ManualClock's wall origin + 16 s
        task.cancel()
        _ = await task.result
    }

    @Test func eventTimestampsComeFromTheInjectedClock() async throws {
        let f = try Fixture()
        let pvc = try await f.client.create(Fixture.pvc("clocked", "default"))
        let clock = ManualClock()
        let recorder = EventRecorder(client: f.client, component: "ferry", clock: clock, logger: Logger(label: "t"))
        let first = await recorder.record(pvc, type: .normal, reason: "A", message: "one")
        let second = await recorder.record(pvc, type: .normal, reason: "B", message: "two")  // same instant
        clock.advance(by: .seconds(90))
        let folded = await recorder.record(pvc, type: .normal, reason: "A", message: "one")
        #expect(first?.firstTimestamp == "2027-01-15T08:00:00Z")
        #expect(second != nil && second?.name != first?.name)
        #expect(folded?.count == 2)
        #expect(folded?.lastTimestamp == "2027-01-15T08:01:30Z")
    }

    @Test func delayedAddsWaitOnTheQueuesClock() async {
        let clock = ManualClock()
        let q = WorkQueue<String>(clock: clock)
        await q.addAfter("late", .seconds(30))
        await q.addAfter("later", .seconds(60))
        await clock.waitForSleepers(2)
        clock.advance(by: .seconds(29))
        #expect(await q.count == 0)
        clock.advance(by: .seconds(1))
        #expect(await q.get() == "late")
        #expect(await q.delayedCount == 1)
        await q.shutDown()  // cancels "later"
        #expect(await q.delayedCount == 0)
        #expect(await q.get() == nil)
        #expect(clock.sleeperCount == 0)
    }

    @Test func rateLimitedBackoffDoublesOnTheQueuesClock() async {
        let clock = ManualClock()
        let q = WorkQueue<String>(rateLimit: .init(baseDelay: .seconds(1), maxDelay: .seconds(100)), clock: clock)
        await q.addRateLimited("k")  // 1 s
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(await q.get() == "k")
        await q.done("k")
        await q.addRateLimited("k")  // 2 s
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        #expect(await q.count == 0)
        clock.advance(by: .seconds(1))
        #expect(await q.get() == "k")
        await q.shutDown()
    }
}
