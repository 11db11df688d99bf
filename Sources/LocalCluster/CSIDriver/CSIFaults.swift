public import GRPCTransport
import Synchronization

/// Fault hooks of the local CSI driver, for tests that need a misbehaving driver: the next calls of a method answer
/// a gRPC error, are delayed (the caller's deadline passes while the driver still finishes the work, as a slow
/// real driver does), or are held until released (a call stays in flight, e.g. while its caller is killed).
///
/// Shared by reference: the cluster's options carry one instance (`LocalClusterOptions.csiFaults`); the driver
/// consults it at the start of each hooked call (`CreateVolume`, `DeleteVolume`, `CreateSnapshot`) and counts every
/// call, faulted or not.
///
/// Thread-safety: all members may be used from any thread.
public final class CSIFaults: Sendable {
    public enum Effect: Sendable {
        /// Answer this status instead of doing the work.
        case error(RPCStatusCode, String)
        /// Wait this long, then do the work normally (the answer may arrive after the caller's deadline).
        case delay(Duration)
        /// Wait until ``release(_:)`` (or ``clear()``), then do the work normally.
        case hold
    }

    public struct Fault: Sendable {
        /// The CSI method name (`CreateVolume`).
        public var method: String
        public var effect: Effect
        /// How many calls this fault hits; nil = every call until cleared.
        public var count: Int?

        public init(method: String, effect: Effect, count: Int? = 1) {
            self.method = method
            self.effect = effect
            self.count = count
        }
    }

    private struct State {
        var faults: [Fault] = []
        var calls: [String: [ContinuousClock.Instant]] = [:]
        var held: [String: Int] = [:]
        var releaseGeneration: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Adds a fault; faults of one method apply in the order added.
    public func inject(_ fault: Fault) { state.withLock { $0.faults.append(fault) } }

    /// Removes every fault and releases every held call.
    public func clear() {
        state.withLock { s in
            s.faults = []
            for method in s.held.keys { s.releaseGeneration[method, default: 0] += 1 }
        }
    }

    /// Releases the calls of `method` currently held.
    public func release(_ method: String) { state.withLock { $0.releaseGeneration[method, default: 0] += 1 } }

    /// How many calls of `method` arrived so far.
    public func calls(_ method: String) -> Int { state.withLock { $0.calls[method]?.count ?? 0 } }

    /// When each call of `method` arrived, oldest first.
    public func callTimes(_ method: String) -> [ContinuousClock.Instant] { state.withLock { $0.calls[method] ?? [] } }

    /// How many calls of `method` are held right now.
    public func held(_ method: String) -> Int { state.withLock { $0.held[method] ?? 0 } }

    /// Called by the driver at the start of `method`: counts the call and applies the first matching fault.
    /// - Throws: the injected `RPCError`, or `CancellationError` when the call's task is cancelled while held.
    func intercept(_ method: String) async throws {
        let effect: Effect? = state.withLock { s in
            s.calls[method, default: []].append(.now)
            guard let index = s.faults.firstIndex(where: { $0.method == method }) else { return nil }
            let fault = s.faults[index]
            if let count = fault.count {
                if count <= 1 { s.faults.remove(at: index) } else { s.faults[index].count = count - 1 }
            }
            return fault.effect
        }
        switch effect {
        case nil:
            return
        case .error(let code, let message)?:
            throw RPCError(code, message)
        case .delay(let duration)?:
            try await Task.sleep(for: duration)
        case .hold?:
            let generation = state.withLock { s -> Int in
                s.held[method, default: 0] += 1
                return s.releaseGeneration[method] ?? 0
            }
            defer { state.withLock { $0.held[method, default: 1] -= 1 } }
            while state.withLock({ ($0.releaseGeneration[method] ?? 0) == generation }) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
