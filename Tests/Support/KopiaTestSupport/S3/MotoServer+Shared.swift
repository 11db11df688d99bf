#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// PID of the shared server, killed when the test process exits.
private let sharedMotoPID = Atomic<Int32>(0)
private let sharedMoto = Mutex<Task<MotoServer, any Error>?>(nil)

extension MotoServer {
    /// One authenticated moto server shared by every test in the process that only needs *a* correct S3 server
    /// (conformance suites): started on first use, killed by an `atexit` handler. Tests isolate themselves with
    /// their own bucket. Suites that need a server to themselves (faults, TLS, unauthenticated) use
    /// `withMotoServer`.
    public static func shared() async throws -> MotoServer {
        let task = sharedMoto.withLock { current -> Task<MotoServer, any Error> in
            if let current { return current }
            let started = Task {
                let server = try await MotoServer.start()
                sharedMotoPID.store(server.processIdentifier, ordering: .relaxed)
                atexit {
                    let pid = sharedMotoPID.load(ordering: .relaxed)
                    if pid > 0 { kill(pid, SIGKILL) }
                }
                return server
            }
            current = started
            return started
        }
        return try await task.value
    }
}
