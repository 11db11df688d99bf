public import FerryCore
public import Foundation
import Synchronization

/// A ``FerryClock`` whose time moves only when a test calls ``advance(by:)``: lease times, backoffs and delays
/// run in zero real time and in a fixed order.
///
/// Sleepers wake in deadline order when an advance reaches their deadline. ``waitForSleepers(_:)`` lets a test
/// wait until the code under test has gone to sleep before advancing. A cancelled sleeper leaves at once with
/// `CancellationError`.
public final class ManualClock: FerryClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: Duration = .zero
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
        var cancelledBeforeSleeping: Set<UInt64> = []
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())
    private let wallOrigin: Date

    /// - Parameter wallOrigin: the wall time at monotonic zero.
    public init(wallOrigin: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.wallOrigin = wallOrigin
    }

    public func monotonicNow() -> Duration { state.withLock { $0.now } }

    public func wallNow() -> Date {
        wallOrigin.addingTimeInterval(monotonicNow().secondsValue)
    }

    /// How many tasks are asleep on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        try Task.checkCancellation()
        let id = state.withLock { s -> UInt64 in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let (resumeNow, cancelled, watchers) = state.withLock { s -> (Bool, Bool, [CheckedContinuation<Void, Never>]) in
                    if s.cancelledBeforeSleeping.remove(id) != nil { return (false, true, []) }
                    if duration <= .zero { return (true, false, []) }
                    s.sleepers.append(Sleeper(id: id, deadline: s.now + duration, continuation: c))
                    return (false, false, Self.takeSatisfiedWatchers(&s))
                }
                if cancelled { c.resume(throwing: CancellationError()) }
                else if resumeNow { c.resume() }
                for w in watchers { w.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else {
                    s.cancelledBeforeSleeping.insert(id)
                    return nil
                }
                return s.sleepers.remove(at: i)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        state.withLock { _ = $0.cancelledBeforeSleeping.remove(id) }
    }

    /// Moves time forward by `duration` and wakes every sleeper whose deadline it reaches, earliest first.
    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [Sleeper] in
            s.now += max(duration, .zero)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Suspends until at least `count` tasks sleep on this clock (the code under test has reached its wait).
    public func waitForSleepers(_ count: Int = 1) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.sleepers.count >= count { return true }
                s.watchers.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    private static func takeSatisfiedWatchers(_ s: inout State) -> [CheckedContinuation<Void, Never>] {
        let n = s.sleepers.count
        let ready = s.watchers.filter { $0.count <= n }.map(\.continuation)
        s.watchers.removeAll { $0.count <= n }
        return ready
    }
}
