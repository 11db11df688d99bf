import Foundation
import Kube
import LocalCluster
import Logging

/// One in-process local cluster (API server only) shared by the suites of this process that only read and write
/// through the API in their own namespaces; its directory is removed at process exit by the OS temp cleaner only,
/// so it lives under the system temp directory with a recognisable name.
enum SharedCluster {
    private static let started = Task { () throws -> LocalClusterInstance in
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-lc-shared-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        // The protection controller removes the pvc-/pv-protection finalizers admission adds, so deletes complete.
        return try await LocalClusterInstance.start(options: LocalClusterOptions(
            directory: dir, storeDumpDirectory: ProcessInfo.processInfo.environment["FERRY_STORE_DUMP_DIR"]
                .flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }),
                                                    components: [ProtectionController()])
    }

    static func get() async throws -> LocalClusterInstance { try await started.value }

    /// The shared cluster is never stopped (no suite owns it), so tests call this after their writes: the store is
    /// dumped (one file per process, overwritten) for the kubernetes-validate sweep when `FERRY_STORE_DUMP_DIR` is set.
    static func dumpForSweep() async throws {
        guard let dir = ProcessInfo.processInfo.environment["FERRY_STORE_DUMP_DIR"], !dir.isEmpty else { return }
        try await get().writeStoreDump(to: URL(fileURLWithPath: dir).appendingPathComponent("shared-\(getpid()).json"))
    }
}
