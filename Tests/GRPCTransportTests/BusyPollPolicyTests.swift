@testable import GRPCTransport
import Testing

/// The busy-poll state machine, driven with made-up nanosecond clocks.
struct BusyPollPolicyTests {
    private let ms: Int64 = 1_000_000

    @Test func pollsOnlyWithinTheWindowAfterACompletion() {
        var policy = BusyPollPolicy(window: .microseconds(200))
        #expect(!policy.shouldPoll(now: 0))
        policy.completed(now: 1_000, whilePolling: false)
        #expect(policy.shouldPoll(now: 1_000))
        #expect(policy.shouldPoll(now: 200_999))
        #expect(!policy.shouldPoll(now: 201_000))
    }

    @Test func aZeroWindowNeverPolls() {
        var policy = BusyPollPolicy(window: .zero)
        policy.completed(now: 0, whilePolling: false)
        #expect(!policy.shouldPoll(now: 0))
    }

    @Test func quickYieldsKeepPolling() {
        var policy = BusyPollPolicy(window: .microseconds(200))
        policy.completed(now: 0, whilePolling: false)
        policy.yielded(before: 1_000, after: 3_000)
        policy.yielded(before: 3_000, after: 200_000 - 1)  // just under the contention threshold
        #expect(policy.shouldPoll(now: 199_999))
    }

    @Test func oneContendedYieldEndsTheWindowButTheNextCompletionPollsAgain() {
        var policy = BusyPollPolicy(window: .microseconds(200))
        policy.completed(now: 0, whilePolling: false)
        policy.yielded(before: 1_000, after: 4 * ms)
        #expect(!policy.shouldPoll(now: 4 * ms))
        policy.completed(now: 5 * ms, whilePolling: false)
        #expect(policy.shouldPoll(now: 5 * ms))
    }

    @Test func contendedWindowsInARowPauseForDoublingTimesUpTo64ms() {
        var policy = BusyPollPolicy(window: .microseconds(200))
        var now: Int64 = 0
        policy.completed(now: now, whilePolling: false)
        policy.yielded(before: now, after: now + 3 * ms)  // first contended window: no pause
        now += 3 * ms
        var pauses: [Int64] = []
        for _ in 0..<9 {
            policy.completed(now: now, whilePolling: false)
            policy.yielded(before: now, after: now + 3 * ms)
            now += 3 * ms
            // Find the pause: the first completion after which polling resumes.
            var resumed = now
            while true {
                policy.completed(now: resumed, whilePolling: false)
                if policy.shouldPoll(now: resumed) { break }
                resumed += 100_000
            }
            pauses.append(resumed - now)
            now = resumed
        }
        #expect(pauses.map { ($0 + ms / 2) / ms } == [1, 2, 4, 8, 16, 32, 64, 64, 64])
    }

    @Test func aCompletionCaughtWhilePollingResetsTheBackOff() {
        var policy = BusyPollPolicy(window: .microseconds(200))
        policy.completed(now: 0, whilePolling: false)
        policy.yielded(before: 0, after: 3 * ms)
        policy.completed(now: 3 * ms, whilePolling: false)
        policy.yielded(before: 3 * ms, after: 6 * ms)  // second in a row: paused until 7 ms
        #expect(!policy.shouldPoll(now: 6 * ms))
        policy.completed(now: 8 * ms, whilePolling: false)
        #expect(policy.shouldPoll(now: 8 * ms))
        policy.completed(now: 8 * ms + 50_000, whilePolling: true)  // polling paid off
        policy.yielded(before: 9 * ms, after: 12 * ms)  // contended again, but the streak was reset
        policy.completed(now: 12 * ms, whilePolling: false)
        #expect(policy.shouldPoll(now: 12 * ms))
    }
}

/// Configured durations of any size convert without trapping.
struct DurationWholeUnitsTests {
    @Test func convertsRoundsUpAndClamps() {
        #expect(Duration.microseconds(200).wholeUnits(of: .nanoseconds(1)) == 200_000)
        #expect(Duration.nanoseconds(1_500).wholeUnits(of: .microseconds(1)) == 2)
        #expect(Duration.seconds(-5).wholeUnits(of: .milliseconds(1)) == 0)
        #expect(Duration.seconds(Int64.max).wholeUnits(of: .nanoseconds(1)) == Int64.max / 2)
        #expect(BusyPollPolicy(window: .seconds(Int64.max)).windowNanos == BusyPollPolicy.longestWindowNanos)
    }
}
