/// Go's `time.ParseDuration` syntax for flags (`10s`, `5m`, `1m30s`, `250ms`, `1.5h`), as the CSI sidecars' flags
/// take it. Pure; rejects what Go rejects (no unit, unknown unit, empty) and clamps nothing silently: a value beyond
/// ~292 years is an error.
public enum GoDuration {
    static let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]

    public static func parse(_ text: String) -> Duration? {
        var s = Substring(text)
        var negative = false
        if s.first == "-" || s.first == "+" { negative = s.first == "-"; s = s.dropFirst() }
        if s == "0" { return .zero }
        guard !s.isEmpty else { return nil }
        var total = 0.0
        while !s.isEmpty {
            let number = s.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            s = s.dropFirst(number.count)
            guard let (unit, factor) = units.filter({ s.hasPrefix($0.0) }).max(by: { $0.0.count < $1.0.count }) else { return nil }
            s = s.dropFirst(unit.count)
            total += value * factor
        }
        guard total.isFinite, total < 9.2e9 else { return nil }
        let nanos = Int64((total * 1e9).rounded())
        return .nanoseconds(negative ? -nanos : nanos)
    }
}
