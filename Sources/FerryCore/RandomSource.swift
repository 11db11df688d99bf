import Synchronization

/// Randomness as Ferry's libraries see it (jitter, sampling), injected so tests are deterministic.
public protocol RandomSource: Sendable {
    /// 64 uniformly distributed random bits.
    func next() -> UInt64
}

extension RandomSource {
    /// A uniformly distributed value in `0..<1`.
    public func unitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// `base` plus up to `factor × base` of random extra (client-go's `wait.Jitter`): `base × (1 + factor × u)`.
    /// A factor that is not positive returns `base`.
    public func jittered(_ base: Duration, factor: Double) -> Duration {
        guard factor > 0 else { return base }
        return base.clampedMultiplied(by: 1 + factor * unitInterval())
    }
}

/// The system's cryptographically secure generator.
public struct SystemRandomSource: RandomSource {
    public init() {}
    public func next() -> UInt64 {
        var g = SystemRandomNumberGenerator()
        return g.next()
    }
}

/// A deterministic generator (SplitMix64) for tests and reproducible sampling: the same seed gives the same
/// sequence. Thread-safe.
public final class SeededRandomSource: RandomSource {
    private let state: Mutex<UInt64>

    public init(seed: UInt64) { state = Mutex(seed) }

    public func next() -> UInt64 {
        state.withLock { s in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
