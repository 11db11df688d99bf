import Synchronization

/// One lock per source object, so adding and removing its protection finalizer never interleave in this process.
///
/// The race it closes: the source-protection reconciler finds no claim depending on a source (a new claim is not in
/// the cache yet), then — while its GET-and-update runs — the new claim's reconcile adds the finalizer and goes on
/// to CreateVolume; the reconciler's update then removes that finalizer. Under the lock, the reconciler's
/// "no dependents" decision and its removal happen together, and the claim's add comes wholly before (the claim,
/// already cached, then counts as a dependent) or wholly after (the finalizer is added again).
///
/// Thread-safety: all members may be used from any task. Waiters are served in arrival order.
public final class SourceLocks: Sendable {
    private let state = Mutex<[SourceReference: [CheckedContinuation<Void, Never>]]>([:])

    public init() {}

    /// Runs `body` holding the lock of `source`.
    public func withLock<R: Sendable>(_ source: SourceReference, _ body: () async -> R) async -> R {
        await acquire(source)
        let result = await body()
        release(source)
        return result
    }

    private func acquire(_ source: SourceReference) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { s -> Bool in
                guard s[source] != nil else {
                    s[source] = []
                    return true
                }
                s[source, default: []].append(c)
                return false
            }
            if acquired { c.resume() }
        }
    }

    private func release(_ source: SourceReference) {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard var waiters = s[source], !waiters.isEmpty else {
                s[source] = nil
                return nil
            }
            let first = waiters.removeFirst()
            s[source] = waiters
            return first
        }
        next?.resume()
    }
}
