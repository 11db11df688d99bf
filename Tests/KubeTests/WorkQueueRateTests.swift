import Kube
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
