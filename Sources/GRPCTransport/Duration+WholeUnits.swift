extension Duration {
    /// This duration in whole `unit`s, rounded up and clamped to `0...limit`, so that no configured value
    /// (negative, or years long) can trap in a conversion or overflow the arithmetic done with the result.
    func wholeUnits(of unit: Duration, limit: Int64 = Int64.max / 2) -> Int64 {
        let ratio = (self / unit).rounded(.up)
        guard ratio > 0 else { return 0 }
        return ratio >= Double(limit) ? limit : Int64(ratio)
    }
}
