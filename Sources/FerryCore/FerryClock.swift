public import Foundation

/// Time as Ferry's libraries see it, injected so tests control it (STYLE.md rule 10).
///
/// Two readings: ``monotonicNow()`` for deadlines and elapsed time (never goes backwards), and ``wallNow()`` for
/// timestamps written into objects (lease renew times, event timestamps). ``sleep(for:)`` suspends for a span of
/// this clock's time. Production code uses ``SystemClock``; tests use `ManualClock` (FerryTestSupport), whose time
/// moves only when the test advances it.
public protocol FerryClock: Sendable {
    /// Time since this clock's origin; never decreases. Compare two readings to measure elapsed time.
    func monotonicNow() -> Duration
    /// The calendar time now, for timestamps other parties read.
    func wallNow() -> Date
    /// Suspends the calling task until `duration` of this clock's time has passed (at once for zero or negative).
    /// - Throws: `CancellationError` when the task is cancelled while sleeping.
    func sleep(for duration: Duration) async throws
}

/// The real clock: `ContinuousClock` for monotonic time and sleeping, `Date()` for wall time.
public struct SystemClock: FerryClock {
    private static let origin = ContinuousClock.now

    public init() {}

    public func monotonicNow() -> Duration { ContinuousClock.now - Self.origin }
    public func wallNow() -> Date { Date() }
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration.clampedToConfigurationLimit)
    }
}
