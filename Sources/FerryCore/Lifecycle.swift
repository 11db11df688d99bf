import Synchronization

/// A long-running part of the daemon, in swift-service-lifecycle's shape (STYLE.md rule 10).
///
/// `run()` starts the part, keeps it working until the calling task is cancelled (graceful shutdown), then stops
/// it, waits until everything it started (threads, tasks, C resources) is gone, and returns. It never exits the
/// process and never installs signal handlers: the executable owns those and cancels the task.
public protocol FerryService: Sendable {
    func run() async throws
}

/// Where a long-lived part is in its life. Moves only forward: created → running → stopping → stopped, or
/// created → stopping (stopped before it ran). Everything else is refused with ``LifecycleError``.
public enum LifecyclePhase: Sendable, Hashable, CustomStringConvertible {
    case created, running, stopping, stopped

    /// Moves to `next` if that is a legal step, else throws and leaves the phase unchanged.
    public mutating func transition(to next: LifecyclePhase, component: String) throws(LifecycleError) {
        let legal: Bool = switch (self, next) {
        case (.created, .running), (.created, .stopping), (.running, .stopping), (.stopping, .stopped): true
        default: false
        }
        guard legal else { throw LifecycleError(component: component, from: self, to: next) }
        self = next
    }

    /// Moves to `.stopping` from `.created` or `.running`; false (and no change) when already stopping or stopped.
    public mutating func beginStopping() -> Bool {
        switch self {
        case .created, .running: self = .stopping; return true
        case .stopping, .stopped: return false
        }
    }

    public var description: String {
        switch self {
        case .created: "created"
        case .running: "running"
        case .stopping: "stopping"
        case .stopped: "stopped"
        }
    }
}

/// An illegal lifecycle step: running a part twice, or running it after it stopped.
public struct LifecycleError: Error, Sendable, Hashable, CustomStringConvertible, RetryClassifying {
    public var component: String
    public var from: LifecyclePhase
    public var to: LifecyclePhase

    public init(component: String, from: LifecyclePhase, to: LifecyclePhase) {
        self.component = component
        self.from = from
        self.to = to
    }

    /// The part will not leave its phase by itself: make a new one.
    public var retry: RetryClass { .permanent }

    public var description: String { "\(component) cannot go from \(from) to \(to)" }
}

/// Suspends until the calling task is cancelled (at once if it already is). The body of a `run()` whose part
/// works on its own threads: start, `await waitUntilCancelled()`, stop.
public func waitUntilCancelled() async {
    let gate = CancellationGate()
    await withTaskCancellationHandler {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in gate.park(c) }
    } onCancel: {
        gate.open()
    }
}

/// One parked continuation and an open flag; whichever of park/open comes second resumes it.
private final class CancellationGate: Sendable {
    private let state = Mutex<(open: Bool, parked: CheckedContinuation<Void, Never>?)>((false, nil))

    func park(_ c: CheckedContinuation<Void, Never>) {
        let resumeNow = state.withLock { s -> Bool in
            if s.open || Task.isCancelled { return true }
            s.parked = c
            return false
        }
        if resumeNow { c.resume() }
    }

    func open() {
        let parked = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.open = true
            defer { s.parked = nil }
            return s.parked
        }
        parked?.resume()
    }
}

/// Runs services together until the calling task is cancelled or one of them returns or throws; then cancels the
/// others and waits for all of them. The first error (other than cancellation) is rethrown.
public func runServices(_ services: [any FerryService]) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services { group.addTask { try await service.run() } }
        defer { group.cancelAll() }
        var firstError: (any Error)?
        do { try await group.next() } catch { firstError = error }
        group.cancelAll()
        while true {
            do { guard try await group.next() != nil else { break } } catch { firstError = firstError ?? error }
        }
        if let firstError, !(firstError is CancellationError) { throw firstError }
    }
}
