import FerryCore
import FerryTestSupport
import Foundation
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ManualClockTests {
    @Test func sleepersWakeInDeadlineOrderOnlyWhenTimeReachesThem() async throws {
        let clock = ManualClock()
        final class Woke: Sendable { let list = Mutex<[Int]>([]) }
        let woke = Woke()
        let tasks = [3, 1, 2].map { n in
            Task { try await clock.sleep(for: .seconds(n)); woke.list.withLock { $0.append(n) } }
        }
        await clock.waitForSleepers(3)
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleeperCount == 3)
        clock.advance(by: .seconds(2))  // t = 2.999 s: 1 and 2 are due
        try await tasks[1].value
        try await tasks[2].value
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        try await tasks[0].value
        #expect(woke.list.withLock { $0 }.sorted() == [1, 2, 3])
        #expect(clock.monotonicNow() == .milliseconds(3999))
    }

    @Test func cancellingASleeperEndsItsSleepAtOnce() async {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(for: .seconds(3600)) }
        await clock.waitForSleepers(1)
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(clock.sleeperCount == 0)
    }

    @Test func wallTimeMovesWithTheClock() {
        let clock = ManualClock(wallOrigin: Date(timeIntervalSince1970: 1000))
        clock.advance(by: .seconds(15))
        #expect(clock.wallNow() == Date(timeIntervalSince1970: 1015))
    }

    @Test func jitterStaysWithinItsFactor() {
        let random = SeededRandomSource(seed: 1)
        for _ in 0..<1000 {
            let d = random.jittered(.seconds(2), factor: 1.2)
            #expect(d >= .seconds(2) && d <= .milliseconds(4400))
        }
        #expect(random.jittered(.seconds(2), factor: 0) == .seconds(2))
    }
}
