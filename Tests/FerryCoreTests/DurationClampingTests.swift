import FerryCore
import Testing

/// Configured durations never trap: every conversion clamps to `0...configurationLimit`.
struct DurationClampingTests {
    @Test(arguments: [
        (1e21, Duration.configurationLimit), (Double.infinity, .configurationLimit), (-5, .zero),
        (Double.nan, .zero), (0, .zero), (1.5, .milliseconds(1500)), (0.000_001, .microseconds(1)),
    ])
    func secondsFromConfigurationAreClamped(_ seconds: Double, _ expected: Duration) {
        #expect(Duration(clampingSeconds: seconds) == expected)
    }

    @Test func countsOfAUnitAreClampedLikeSeconds() {
        #expect(Duration(clamping: 1e21, .seconds(60)) == .configurationLimit)
        #expect(Duration(clamping: 250, .milliseconds(1)) == .milliseconds(250))
        #expect(Duration(clamping: -1, .milliseconds(1)) == .zero)
    }

    @Test func theLimitFitsInEveryUnitTheTransportsUse() {
        let limit = Duration.configurationLimit
        #expect(limit.wholeUnits(of: .nanoseconds(1)) == Int64(1) << 32 * 1_000_000_000)
        #expect(limit.wholeUnits(of: .milliseconds(1)) < Int64(Int32.max) * 1_000_000)
        #expect(Duration.seconds(Int64.max).clampedToConfigurationLimit == limit)
        #expect(Duration.seconds(-3).clampedToConfigurationLimit == .zero)
    }

    @Test func wholeUnitsRoundUpAndClampNegativeAndHugeValues() {
        #expect(Duration.microseconds(1500).wholeUnits(of: .milliseconds(1)) == 2)
        #expect(Duration.seconds(-1).wholeUnits(of: .milliseconds(1)) == 0)
        #expect(Duration.seconds(Int64.max).wholeUnits(of: .nanoseconds(1)) == Int64.max / 2)
        #expect(Duration.seconds(Int64.max).wholeUnits(of: .nanoseconds(1), limit: 7) == 7)
    }

    @Test func multiplyingByHugeFactorsClampsInsteadOfOverflowing() {
        #expect(Duration.seconds(Int64(1) << 40).clampedMultiplied(by: 1e12) == .configurationLimit)
        #expect(Duration.milliseconds(5).clampedMultiplied(by: 4) == .milliseconds(20))
        #expect(Duration.seconds(1).clampedMultiplied(by: -2) == .zero)
    }
}
