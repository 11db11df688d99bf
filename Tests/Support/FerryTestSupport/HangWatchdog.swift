import Dispatch
public import Foundation

/// Turns a hang into a crash that says what hung.
///
/// A deadlock between two cooperative-pool threads takes the whole pool (two threads on a 2-core machine) with it:
/// swift-testing's `.timeLimit` then never fires, and the test process just sits there with no output. The watchdog
/// waits on its own OS thread; if `body` has not finished after `timeout`, it stops the process with
/// `fatalError`, whose crash report lists every thread's backtrace — the evidence of who waits for whom.
///
/// - Parameters:
///   - what: the operation, for the message.
///   - timeout: generous: many times the slowest normal run on a loaded machine.
public func withHangWatchdog<R>(
    _ what: String, timeout: Duration, _ body: () async throws -> R
) async rethrows -> R {
    let finished = DispatchSemaphore(value: 0)
    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    let thread = Thread {
        if finished.wait(timeout: .now() + seconds) == .timedOut {
            fatalError("hang: \(what) did not finish within \(timeout) (a deadlock? every thread's backtrace follows)")
        }
    }
    thread.name = "test-watchdog"
    thread.start()
    defer { finished.signal() }
    return try await body()
}
