extension LeaderElector {
    /// `spec.leaseTransitions` after a candidate takes the lease over from `previousHolder` (empty = nobody).
    ///
    /// client-go adds one per change of holder; the field is an `int32` that the API server keeps non-negative, and
    /// its value comes from whoever can write the Lease. So the count saturates at `Int32.max` instead of
    /// overflowing, and a negative or missing count restarts from 0. Pure.
    package static func transitions(after current: Int?, previousHolder: String) -> Int {
        guard let current else { return previousHolder.isEmpty ? 0 : 1 }
        let bounded = min(max(current, 0), Int(Int32.max))
        return bounded == Int(Int32.max) ? bounded : bounded + 1
    }
}
