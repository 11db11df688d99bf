public import Kube
import Synchronization

/// Claims whose last CreateVolume answered INVALID_ARGUMENT ("infeasible", kubernetes.md §1.7): their next attempt
/// waits for `--retry-interval-max` even when an informer event (the source's finalizer, a link's status, a grant
/// elsewhere in the namespace) wakes the claim sooner — upstream's "Retries will be delayed". A change of the claim
/// spec or of its StorageClass (another resourceVersion) ends the delay at once: the request may be feasible now.
/// (Not the claim's resourceVersion: the PV controller annotates a new claim right after its first attempt.)
///
/// Thread-safety: all members may be used from any task.
public final class InfeasibleDelays: Sendable {
    /// What ends a delay early when it changes.
    public struct Fingerprint: Sendable, Hashable {
        public var claimSpec: JSONObject
        public var storageClassVersion: String
        public init(claimSpec: JSONObject, storageClassVersion: String) {
            self.claimSpec = claimSpec
            self.storageClassVersion = storageClassVersion
        }
    }

    struct Hold: Sendable {
        var until: ContinuousClock.Instant
        var fingerprint: Fingerprint
    }

    private let holds = Mutex<[String: Hold]>([:])

    public init() {}

    /// Delays the claim `uid` until `duration` from now, unless its `fingerprint` changes.
    public func hold(_ uid: String, fingerprint: Fingerprint, for duration: Duration) {
        holds.withLock { $0[uid] = Hold(until: .now + duration, fingerprint: fingerprint) }
    }

    /// The time left before the claim may be attempted again; nil = now (and the hold is dropped).
    public func remaining(_ uid: String, fingerprint: Fingerprint) -> Duration? {
        holds.withLock { h in
            guard let hold = h[uid] else { return nil }
            let left = hold.until - .now
            guard hold.fingerprint == fingerprint, left > .zero else {
                h[uid] = nil
                return nil
            }
            return left
        }
    }

    /// Forgets a claim (provisioned or deleted).
    public func forget(_ uid: String) { holds.withLock { $0[uid] = nil } }
}
