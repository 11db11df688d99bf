import Synchronization

/// Limits how many moto servers run at once in one test process. Each moto is a Python process that needs a
/// few CPU-seconds to start; a dozen started together on a 2-core machine missed their start deadline. Waiters
/// suspend (never block a thread) and are served in arrival order.
final class MotoSlots: Sendable {
    private struct State {
        var free: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ count: Int) {
        state = Mutex(State(free: count))
    }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { s -> Bool in
                if s.free > 0 {
                    s.free -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Two at a time: enough to overlap one server's start with another's use.
    static let shared = MotoSlots(2)
}
