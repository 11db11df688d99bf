/// When and how long to wait before repeating a failed S3 request.
///
/// Exponential backoff with "equal jitter": before attempt *n* + 1 the delay is half of
/// `min(maxDelay, baseDelay · 2ⁿ⁻¹)` plus a uniformly random part of the other half, so concurrent clients spread
/// out while every retry still backs off. Which failures are retried is decided by `S3ErrorMapping` from typed
/// codes (timeouts, connection resets, 500/502/503/504, `SlowDown`, 429), never from message text.
public struct S3RetryPolicy: Sendable, Equatable {
    /// Total attempts, the first included (1 = never retry).
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int, baseDelay: Duration, maxDelay: Duration) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Eight attempts from 100 ms up to 5 s between tries (about 12 s of waiting at most).
    public static let standard = S3RetryPolicy(maxAttempts: 8, baseDelay: .milliseconds(100), maxDelay: .seconds(5))
    /// A single attempt.
    public static let none = S3RetryPolicy(maxAttempts: 1, baseDelay: .zero, maxDelay: .zero)

    /// Whether another attempt follows attempt number `attempt` (1-based).
    public func allowsRetry(afterAttempt attempt: Int) -> Bool { attempt < maxAttempts }

    /// The pause after failed attempt number `attempt` (1-based), with jitter drawn from `generator`.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let cap = ceiling(afterAttempt: attempt)
        let half = cap / 2
        let nanos = Self.nanoseconds(half)
        let jitter = nanos > 0 ? Int64.random(in: 0...nanos, using: &generator) : 0
        return half + .nanoseconds(jitter)
    }

    /// The largest pause `delay(afterAttempt:using:)` can return for this attempt.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let grown = baseDelay * (1 << exponent)
        return grown < maxDelay ? grown : maxDelay
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1_000_000_000 + atto / 1_000_000_000
    }
}
