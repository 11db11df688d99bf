import Synchronization

/// Claims this process has seen provisioned (their PV `pvc-<uid>` exists, bound to them), so the source-protection
/// reconciler need not GET each one's PV again while the PV binder has not bound the claim yet. Without it, every
/// source reconcile during a burst re-reads the PV of every already-provisioned claim of that source (quadratic
/// API calls while the binder lags). A claim is dropped when it is deleted or provisioning starts again for it.
/// Process memory only: after a restart the PVs are read again (correct, one GET each).
///
/// Thread-safety: all members may be used from any task.
public final class ProvisionedClaims: Sendable {
    private let uids = Mutex<Set<String>>([])

    public init() {}

    public func insert(_ uid: String) { _ = uids.withLock { $0.insert(uid) } }
    public func remove(_ uid: String) { _ = uids.withLock { $0.remove(uid) } }
    public func contains(_ uid: String) -> Bool { uids.withLock { $0.contains(uid) } }
}
