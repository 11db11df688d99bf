import Synchronization

/// Bounds the S3 requests in flight, so a restore that asks for thousands of ranged reads at once submits at most
/// `limit` to libcurl and the rest wait here (their timeouts start only when they are sent).
///
/// FIFO; a waiter cancelled while waiting leaves the queue and throws `CancellationError`.
final class S3RequestLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
    }
    private let state: Mutex<State>

    init(limit: Int) { state = Mutex(State(available: max(1, limit))) }

    /// Runs `body` while holding one slot.
    func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id: UInt64? = state.withLock { s in
            if s.available > 0 {
                s.available -= 1
                return nil
            }
            s.nextID += 1
            return s.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                // Re-check under the lock: a slot may have been released since the fast path looked.
                enum Action { case proceed, cancel, wait }
                let action = state.withLock { s -> Action in
                    if Task.isCancelled { return .cancel }
                    if s.available > 0 {
                        s.available -= 1
                        return .proceed
                    }
                    s.waiters.append((id: id, continuation: c))
                    return .wait
                }
                switch action {
                case .proceed: c.resume()
                case .cancel: c.resume(throwing: CancellationError())
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if s.waiters.isEmpty {
                s.available += 1
                return nil
            }
            return s.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
