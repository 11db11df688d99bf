public import Kube

/// The owner's side of a KopiaSnapshot, independent of any claim: resolves it in its own namespace with that
/// namespace's repository Secret (the owner's data and credentials — no namespace boundary is crossed, so no grant
/// is involved), writes its status, and so keeps the opened repository warm in ``RepositoryCache`` for the claims
/// that a grant later lets through.
///
/// Level-triggered: each reconcile reads the Secret (a changed one opens afresh), asks the cache for the repository
/// (its index re-read when older than the cache's refresh interval — one listing when nothing changed), resolves
/// the spec and writes the status when it changed. A claim never causes this reconciler to run: a claim without a
/// grant still makes Ferry read nothing for it.
public struct KopiaSnapshotStatusReconciler: Sendable {
    public let populator: KopiaPopulator
    /// How often a KopiaSnapshot is resolved again without an event (new snapshots, a fixed Secret).
    public let recheckInterval: Duration

    public init(populator: KopiaPopulator, recheckInterval: Duration) {
        self.populator = populator
        self.recheckInterval = recheckInterval
    }

    /// Resolves `snapshot` and writes its status; the outcome says when to look again.
    public func reconcile(_ snapshot: KopiaSnapshot, context: ReconcileContext) async -> ReconcileOutcome {
        guard snapshot.metadata.deletionTimestamp == nil else { return .done }
        let resolved = await populator.resolve(snapshot, pinned: nil, freshAsOf: nil, context: context)
        return Self.next(statusWriteFailed: resolved.statusWriteFailed, recheckInterval: recheckInterval)
    }

    /// When to look again (pure): soon after a failed status write (usually a conflict with a newer copy the
    /// informer has not delivered yet), else after the recheck interval — whatever the resolution said, because
    /// every cause (a wrong password, an unreachable repository, nothing matching yet) can change without an event
    /// Ferry sees, and the cache keeps a retry cheap (a remembered wrong password, an unchanged index).
    public static func next(statusWriteFailed: Bool, recheckInterval: Duration) -> ReconcileOutcome {
        if statusWriteFailed { return .requeue(after: min(recheckInterval, .milliseconds(500))) }
        return .requeue(after: recheckInterval)
    }
}
