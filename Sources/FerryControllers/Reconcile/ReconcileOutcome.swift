import Logging
/// What one reconcile of a key ended with; the runtime turns it into queue actions (STYLE.md §3b).
public enum ReconcileOutcome: Sendable, Hashable {
    /// Nothing left to do: forget the key's backoff.
    case done
    /// Look again after a delay (polling a slow peer, a deliberate pause).
    case requeue(after: Duration)
    /// Blocked on something another object's change will bring (a grant, a ready snapshot, a link). The named
    /// reason is shown to people (event or condition); informers re-enqueue the key when it may have changed, and
    /// the runtime still looks again after its resync bound so no wait is unbounded.
    case waiting(reason: String)
    /// Failed; `final` failures are retried only after the maximum interval, others with exponential backoff.
    case failed(reason: String, final: Bool)
}
