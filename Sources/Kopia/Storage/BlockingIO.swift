import Dispatch

/// Runs blocking system calls (open, pread, readdir, rename) off Swift's cooperative pool (STYLE.md rule 7).
///
/// The work runs on a global Dispatch queue and the calling task suspends until it finishes. Cancellation is
/// checked before the work starts; a started system call runs to completion. Errors thrown by `work` pass through.
enum BlockingIO {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        if Task.isCancelled { throw KopiaError(.cancelled, "the storage operation was cancelled") }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
