import Kube
import Logging
import Testing

/// Work-queue rates and backoffs from configuration never trap.
struct WorkQueueRateTests {
    @Test(arguments: [0.0, -1, Double.nan])
    func aRateThatIsNotPositiveTurnsTheBucketOff(_ rate: Double) async {
        let q = WorkQueue<String>(rateLimit: .init(baseDelay: .zero, maxDelay: .zero, perSecond: rate, burst: 0))
        await q.addRateLimited("a")
        await q.addRateLimited("b")
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
        await q.shutDown()
    }

    @Test func hugeBaseDelaysAndManyFailuresClampInsteadOfOverflowing() async {
        let q = WorkQueue<String>(rateLimit: .init(baseDelay: .seconds(Int64(1) << 40), maxDelay: .seconds(Int64.max),
                                                  perSecond: 1e-300, burst: 1))
        for _ in 0..<70 { await q.addRateLimited("k") }
        #expect(await q.retries("k") == 70)
        await q.shutDown()
    }
}

/// Cancellation reaches every wait of the work queue and the informer.
@Suite(.timeLimit(.minutes(1)))
struct QueueAndInformerCancellationTests {
    @Test func aCancelledGetReturnsNilAndTakesNoKey() async {
        let q = WorkQueue<String>()
        let waiter = Task { await q.get() }
        try? await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        #expect(await waiter.value == nil)  // hung forever before
        await q.add("k")
        #expect(await q.get() == "k")
        await q.shutDown()
    }

    @Test func runShutsTheQueueDownWhenCancelled() async {
        let q = WorkQueue<String>()
        let service = Task { await q.run() }
        let worker = Task { await q.get() }
        try? await Task.sleep(for: .milliseconds(20))
        service.cancel()
        await service.value
        #expect(await worker.value == nil)
        #expect(await q.isShutDown)
    }

    @Test func waitForSyncEndsOnCancellationAndOnTheFirstList() async throws {
        let f = try Fixture()
        let informer = Informer<PersistentVolumeClaim>(client: f.client, namespace: "default", logger: .init(label: "i"))
        let cancelledWait = Task { await informer.waitForSync() }
        try await Task.sleep(for: .milliseconds(20))
        cancelledWait.cancel()
        #expect(await cancelledWait.value == false)
        let syncedWait = Task { await informer.waitForSync() }
        let running = Task { await informer.run() }
        #expect(await syncedWait.value == true)
        running.cancel()
        await running.value
        await f.client.stop()
    }
}
