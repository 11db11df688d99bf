/// When a completion-queue thread polls without sleeping, and when it must sleep in the kernel instead.
///
/// After each completion the thread polls for `window`, yielding the CPU between polls. On a virtual machine,
/// waking a thread whose CPU went idle costs 15–20 µs — more than the rest of a local unary round trip — and a
/// call's completions arrive in bursts, so polling through the short gaps keeps most wake-ups off the call path.
///
/// Polling only pays while CPUs are free. When other work competes for them, each yield hands that work a whole
/// time slice (milliseconds) while completions wait, whereas a thread asleep in the kernel is woken by the next
/// completion and preempts it. So a yield that returns late ends the window, and when that happens in two
/// windows running, polling pauses: 1 ms, doubling with each further contended window up to 64 ms, until a
/// window catches a completion again.
///
/// A pure state machine over monotonic nanoseconds, so it can be tested without threads or clocks.
struct BusyPollPolicy {
    /// A yield that returns later than this means another thread ran for a time slice, not a short hand-off.
    static let contendedYieldNanos: Int64 = 250_000
    /// The first pause; it doubles with each further contended window, at most 64 times this.
    static let firstPauseNanos: Int64 = 1_000_000

    /// Longer windows are cut to this (one minute), which keeps `now + window` far from overflowing.
    static let longestWindowNanos: Int64 = 60_000_000_000

    let windowNanos: Int64
    private var pollUntil: Int64 = 0
    private var pausedUntil: Int64 = 0
    private var contendedStreak = 0

    init(window: Duration) {
        windowNanos = window.wholeUnits(of: .nanoseconds(1), limit: Self.longestWindowNanos)
    }

    /// Whether the next wait for a completion should poll (return at once) rather than block.
    func shouldPoll(now: Int64) -> Bool { windowNanos > 0 && now < pollUntil }

    /// A completion was delivered at `now`; `whilePolling` says whether the wait that caught it was a poll.
    mutating func completed(now: Int64, whilePolling: Bool) {
        guard windowNanos > 0 else { return }
        if whilePolling { contendedStreak = 0 }
        if now >= pausedUntil { pollUntil = now + windowNanos }
    }

    /// A poll found nothing and the thread yielded the CPU from `before` to `after`.
    mutating func yielded(before: Int64, after: Int64) {
        guard after - before > Self.contendedYieldNanos else { return }
        pollUntil = 0
        if contendedStreak > 0 {
            pausedUntil = after + Self.firstPauseNanos << min(contendedStreak - 1, 6)
        }
        contendedStreak += 1
    }
}
