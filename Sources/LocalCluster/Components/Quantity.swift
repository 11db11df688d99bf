import Foundation

/// Storage quantities as the API writes them (`resource.Quantity`, `k8s.io/apimachinery/pkg/api/resource`), reduced
/// to what volume sizes need: integers with a binary (`Ki`…`Ei`) or decimal (`k`, `M`…`E`) suffix, plain integers,
/// decimal fractions (`1.5Gi`) and exponents (`1e9`). Results are whole bytes, rounded up as the API rounds a
/// quantity's `Value()`.
package enum Quantity {
    /// Bytes of a quantity string, or nil when it is not a quantity (or overflows `Int64`).
    package static func bytes(_ text: String) -> Int64? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !s.isEmpty else { return nil }
        let suffixes: [(String, Double)] = [
            ("Ki", 1024), ("Mi", 1_048_576), ("Gi", 1_073_741_824), ("Ti", 1_099_511_627_776),
            ("Pi", 1_125_899_906_842_624), ("Ei", 1_152_921_504_606_846_976),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15), ("E", 1e18),
        ]
        var multiplier = 1.0
        for (suffix, factor) in suffixes where s.hasSuffix(suffix) {
            multiplier = factor
            s = s.dropLast(suffix.count)
            break
        }
        if multiplier == 1.0, let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let exponent = Int(s[s.index(after: e)...]), abs(exponent) <= 18 else { return nil }
            var p = 1.0
            for _ in 0..<abs(exponent) { p *= 10 }
            multiplier = exponent < 0 ? 1 / p : p
            s = s[..<e]
        }
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              s.filter({ $0 == "." }).count <= 1 else { return nil }
        if !s.contains("."), let whole = Int64(s) {
            let (product, overflow) = whole.multipliedReportingOverflow(by: Int64(multiplier))
            if multiplier >= 1, multiplier == multiplier.rounded(), !overflow { return product }
        }
        guard let value = Double(s) else { return nil }
        let result = (value * multiplier).rounded(.up)
        guard result >= 0, result < 9.2e18 else { return nil }
        return Int64(result)
    }

    /// The canonical string of a byte count: the largest binary suffix that divides it exactly (`1Gi`,
    /// `1536Mi`), else plain bytes, as the API server canonicalizes BinarySI quantities.
    package static func string(bytes: Int64) -> String {
        guard bytes > 0 else { return "0" }
        let suffixes: [(String, Int64)] = [
            ("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10),
        ]
        for (suffix, factor) in suffixes where bytes % factor == 0 { return "\(bytes / factor)\(suffix)" }
        return String(bytes)
    }
}
