import Foundation

/// Kubernetes resource quantities (`10Gi`, `500M`, `1.5Gi`, `1e9`) as whole bytes, rounded up like
/// `resource.Quantity.Value()`. Pure; no trapping on any input.
public enum Quantity {
    private static let binary: [String: Int] = ["Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60]
    private static let decimal: [String: Int] = ["k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18, "m": -3, "": 0]

    /// Bytes for a quantity string, or nil when it is not a valid quantity or does not fit `Int64`.
    public static func bytes(_ text: String) -> Int64? {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty, s.count <= 64 else { return nil }
        var number = Substring(s)
        var multiplier = Decimal(1)
        if let (suffix, power) = binary.first(where: { s.hasSuffix($0.key) }) {
            number = number.dropLast(suffix.count)
            multiplier = pow(Decimal(2), power)
        } else if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }), e != s.startIndex {
            guard let exp = Int(s[s.index(after: e)...]), abs(exp) <= 30 else { return nil }
            number = s[..<e]
            multiplier = exp >= 0 ? pow(Decimal(10), exp) : 1 / pow(Decimal(10), -exp)
        } else if let last = s.last, !last.isNumber, last != "." {
            guard let power = decimal[String(last)] else { return nil }
            number = number.dropLast()
            multiplier = power >= 0 ? pow(Decimal(10), power) : 1 / pow(Decimal(10), -power)
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "+" || $0 == "-") }),
              number.filter({ $0 == "." }).count <= 1, let value = Decimal(string: String(number)), !value.isNaN else {
            return nil
        }
        var product = value * multiplier
        var rounded = Decimal()
        NSDecimalRound(&rounded, &product, 0, .up)
        guard rounded <= Decimal(Int64.max), rounded >= Decimal(Int64.min) else { return nil }
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    /// The storage request of a claim's `resources.requests["storage"]`, nil when absent or invalid.
    public static func storage(_ requests: [String: String]) -> Int64? {
        requests["storage"].flatMap(bytes)
    }

    /// A quantity string for bytes: the largest binary suffix that divides it exactly (`10Gi`), else plain bytes.
    public static func format(bytes: Int64) -> String {
        guard bytes > 0 else { return "\(bytes)" }
        for (suffix, power) in binary.sorted(by: { $0.value > $1.value }) where bytes % (Int64(1) << power) == 0 {
            return "\(bytes >> power)\(suffix)"
        }
        return "\(bytes)"
    }
}
