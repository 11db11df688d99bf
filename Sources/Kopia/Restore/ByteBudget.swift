import Dispatch
import Synchronization

/// A counting semaphore over bytes: the restore's memory budget. Workers `acquire` the bytes a pack range will
/// need before reading it and `release` them when done, so memory stays bounded however large the snapshot —
/// readers wait (backpressure) instead of buffering.
///
/// FIFO: waiters are served in arrival order, so a large request is not starved by small ones. A request larger
/// than the whole budget is clamped to it (it runs alone). Thread-safe; `acquire` suspends without blocking a
/// thread.
final class ByteBudget: Sendable {
    let capacity: Int
    private let state: Mutex<State>

    private struct State {
        var available: Int
        var waiters: [(bytes: Int, waiter: Waiter)] = []
    }

    /// A task (suspended) or a thread (blocked) waiting for room.
    private enum Waiter {
        case task(CheckedContinuation<Void, Never>)
        case thread(DispatchSemaphore)

        func wake() {
            switch self {
            case .task(let c): c.resume()
            case .thread(let s): s.signal()
            }
        }
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = Mutex(State(available: max(1, capacity)))
    }

    /// Waits until `bytes` (clamped to the capacity) are available and takes them. Returns the amount taken,
    /// to pass to `release`.
    func acquire(_ bytes: Int) async -> Int {
        let n = min(max(bytes, 0), capacity)
        let granted = state.withLock { s -> Bool in
            guard s.waiters.isEmpty, s.available >= n else { return false }
            s.available -= n
            return true
        }
        if granted { return n }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.waiters.isEmpty, s.available >= n {
                    s.available -= n
                    return true
                }
                s.waiters.append((n, .task(c)))
                return false
            }
            if now { c.resume() }
        }
        return n
    }

    /// `acquire` for a dedicated thread: blocks it (never call from the cooperative pool).
    func acquireBlocking(_ bytes: Int) -> Int {
        let n = min(max(bytes, 0), capacity)
        let semaphore = DispatchSemaphore(value: 0)
        let granted = state.withLock { s -> Bool in
            if s.waiters.isEmpty, s.available >= n {
                s.available -= n
                return true
            }
            s.waiters.append((n, .thread(semaphore)))
            return false
        }
        if !granted { semaphore.wait() }
        return n
    }

    /// Returns bytes taken by `acquire` and wakes the waiters that now fit, in order.
    func release(_ bytes: Int) {
        let ready = state.withLock { s -> [Waiter] in
            s.available += bytes
            var out: [Waiter] = []
            while let first = s.waiters.first, first.bytes <= s.available {
                s.available -= first.bytes
                out.append(first.waiter)
                s.waiters.removeFirst()
            }
            return out
        }
        for w in ready { w.wake() }
    }
}
