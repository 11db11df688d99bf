public import Kube

/// Source protection across namespaces (kubernetes.md §1.9, §1.10, §5): Ferry's finalizer stays on a source
/// VolumeSnapshot or PersistentVolumeClaim exactly while a claim that Ferry provisions from it is still pending.
/// Pure decisions; the reconciler reads dependents from the claim cache.
public enum SourceProtection {
    /// The finalizer Ferry puts on sources (same-namespace and cross-namespace alike).
    public static let finalizer = "ferry.io/source-protection"

    /// A claim that depends on a source: pending (no PV yet) and not being deleted.
    public static func isDependent(_ claim: PersistentVolumeClaim) -> Bool {
        claim.metadata.deletionTimestamp == nil && (claim.spec.volumeName ?? "").isEmpty && claim.status.phase != "Bound"
    }

    /// What to do with a source's finalizer given the claims that resolve to it.
    public enum Action: Sendable, Hashable { case add, remove, keep }

    /// - Parameters:
    ///   - hasFinalizer: the source carries ``finalizer``.
    ///   - dependents: claims (any namespace) whose Ferry source is this object, pending or not.
    public static func decide(hasFinalizer: Bool, dependents: [PersistentVolumeClaim]) -> Action {
        let pending = dependents.contains(where: isDependent)
        switch (hasFinalizer, pending) {
        case (true, false): return .remove
        case (false, true): return .add
        default: return .keep
        }
    }
}
