/// The one clamped conversion for configured durations (timeouts, backoffs, poll windows, rates).
///
/// Durations come from flags, configuration files and API objects. Swift traps when a `Double` that does not fit
/// becomes an `Int` or a `Duration` (`Duration.seconds(1e21)` traps), and when `Duration` or `Int` arithmetic
/// overflows. Every configured value therefore passes through these helpers, which clamp instead: negative and
/// NaN become zero, anything longer than ``Duration/configurationLimit`` becomes that limit.
extension Duration {
    /// The longest duration a configured value becomes: 2^32 s (about 136 years). Long enough to mean "never",
    /// small enough that it fits in milliseconds, microseconds or nanoseconds as an `Int64` with room for the
    /// arithmetic done with it.
    public static let configurationLimit: Duration = .seconds(Int64(1) << 32)

    /// This duration in whole `unit`s, rounded up and clamped to `0...limit`, so that no configured value
    /// (negative, or years long) can trap in a conversion or overflow the arithmetic done with the result.
    public func wholeUnits(of unit: Duration, limit: Int64 = Int64.max / 2) -> Int64 {
        let ratio = (self / unit).rounded(.up)
        guard ratio > 0 else { return 0 }
        return ratio >= Double(limit) ? limit : Int64(ratio)
    }

    /// `seconds` seconds, clamped to `0...configurationLimit` (NaN and negative values become zero).
    public init(clampingSeconds seconds: Double) {
        guard seconds > 0 else { self = .zero; return }  // also NaN
        let limitSeconds = Double(Duration.configurationLimit.components.seconds)
        guard seconds < limitSeconds else { self = Duration.configurationLimit; return }
        let whole = seconds.rounded(.down)
        let atto = ((seconds - whole) * 1e18).rounded(.down)
        self = Duration(secondsComponent: Int64(whole), attosecondsComponent: Int64(min(max(atto, 0), 999_999_999_999_999_999)))
    }

    /// `count` × `unit`, clamped like ``init(clampingSeconds:)``: `Duration(clamping: 1e21, .seconds(1))`.
    public init(clamping count: Double, _ unit: Duration) {
        self.init(clampingSeconds: count * unit.secondsValue)
    }

    /// This duration clamped to `0...configurationLimit`.
    public var clampedToConfigurationLimit: Duration {
        if self < .zero { return .zero }
        return self > Duration.configurationLimit ? Duration.configurationLimit : self
    }

    /// This duration × `factor`, clamped to `0...configurationLimit` (no overflow trap for big factors).
    public func clampedMultiplied(by factor: Double) -> Duration {
        Duration(clampingSeconds: secondsValue * factor)
    }

    /// This duration in seconds as a `Double` (exact to about a nanosecond for durations under a century).
    public var secondsValue: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
