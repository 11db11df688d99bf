public import Foundation

/// How fresh the repository index must be when a claim is resolved for the first time (pure).
///
/// A backup that finished before the PVC was created is what its user expects to get, so the index the claim
/// resolves against must have been read after the claim was created. The owner-side KopiaSnapshot reconciler keeps
/// the index refreshed; if its last read began after the claim's creation (plus a margin for the API server's
/// one-second timestamps and clock skew between it and the controller), the claim uses it as is — otherwise the
/// cache re-reads the index first (cheap when nothing changed: one listing).
public enum KopiaIndexFreshness {
    /// The margin added to a claim's `creationTimestamp` (truncated to seconds by the API server, and stamped by
    /// its clock, not ours).
    public static let margin: Duration = .seconds(2)

    /// The instant (on the controller's monotonic clock) the index must have been read at or after.
    /// - Parameters:
    ///   - created: the claim's `metadata.creationTimestamp` (RFC 3339); nil or unreadable → `monotonicNow`.
    ///   - wallNow: the controller's wall clock now; `monotonicNow`: its monotonic clock at the same moment.
    /// - Returns: never later than `monotonicNow` (a read that starts now is always fresh enough).
    public static func requiredRead(created: String?, wallNow: Date, monotonicNow: ContinuousClock.Instant)
        -> ContinuousClock.Instant {
        guard let text = created, let date = parse(text) else { return monotonicNow }
        let age = wallNow.timeIntervalSince(date)
        guard age.isFinite, age >= 0 else { return monotonicNow }
        let sinceCreation = Duration.milliseconds(Int64(min(age, 365 * 86_400) * 1000))
        guard sinceCreation > margin else { return monotonicNow }
        return monotonicNow - sinceCreation + margin
    }

    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let d = plain.date(from: text) { return d }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
