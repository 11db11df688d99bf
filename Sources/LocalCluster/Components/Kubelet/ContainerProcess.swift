import Foundation
import Synchronization

/// A bind mount into a container's private mount namespace.
struct ContainerMount: Sendable, Hashable {
    var source: String
    var target: String
    var readOnly: Bool
    /// The target is a file (termination-message path, subPath of a file), not a directory.
    var file: Bool
}

/// How to start one container run.
struct ContainerLaunch: Sendable {
    var argv: [String]
    var environment: [String: String]
    var workingDirectory: String?
    var mounts: [ContainerMount]
    var logFile: URL

    /// The shell script run inside `unshare --mount`: bind each volume at its mount path (re-mounted read-only where
    /// asked), change to the working directory, then exec the container's command.
    ///
    /// Every source is opened before the first bind, and bound through its `/proc/self/fd` link (`mount -c`, so
    /// mount(8) does not turn the link back into a path): a container runtime resolves volume sources on the host,
    /// outside the container's view, so a volume mounted at `/tmp` must not hide another volume's host directory
    /// that happens to lie below `/tmp` (the cluster directory, the termination-message file). Mount points missing
    /// inside an earlier volume (a target below another target) are created there, as the runtime does in the
    /// container's root filesystem.
    var script: String {
        var lines = ["set -e"]
        for (i, m) in mounts.enumerated() { lines.append("exec {fd\(i)}<\(Self.quote(m.source))") }
        for (i, m) in mounts.enumerated() {
            let target = Self.quote(m.target)
            lines.append(m.file ? "[ -e \(target) ] || : > \(target)" : "[ -e \(target) ] || mkdir -p \(target)")
            lines.append("mount -c --bind \"/proc/self/fd/$fd\(i)\" \(target)")
            if m.readOnly { lines.append("mount -o remount,bind,ro \(target)") }
        }
        for i in mounts.indices { lines.append("exec {fd\(i)}<&-") }
        if let workingDirectory { lines.append("cd \(Self.quote(workingDirectory))") }
        lines.append("exec \"$@\"")
        return lines.joined(separator: "\n")
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// One running container: a local process in its own process group and a private mount namespace. Signals go to
/// the whole group (the command and anything it started).
final class ContainerProcess: @unchecked Sendable {  // @unchecked: `process` is only read after `run()`; state in Mutex
    let pid: Int32
    private let process: Process
    private final class ExitBox: Sendable {
        let state = Mutex<(code: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }
    private let exit = ExitBox()

    /// Starts the container.
    /// - Throws: when the log file cannot be opened or the process cannot be started.
    init(_ launch: ContainerLaunch) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: launch.logFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !fm.fileExists(atPath: launch.logFile.path) { fm.createFile(atPath: launch.logFile.path, contents: nil) }
        let log = try FileHandle(forWritingTo: launch.logFile)
        try log.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--mount", "--propagation", "private", "--", "/bin/bash", "-c", launch.script, "container"]
            + launch.argv
        process.environment = launch.environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        self.process = process
        let box = exit
        process.terminationHandler = { p in
            let code = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
            let waiters = box.state.withLock { state -> [CheckedContinuation<Int32, Never>] in
                state.code = code
                defer { state.waiters = [] }
                return state.waiters
            }
            for w in waiters { w.resume(returning: code) }
            try? log.close()
        }
        do { try process.run() } catch {
            try? log.close()
            throw error
        }
        pid = process.processIdentifier
    }

    /// The exit code (128 + signal for a killed process); waits for the exit.
    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let done = exit.state.withLock { state -> Int32? in
                if let code = state.code { return code }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    var hasExited: Bool { exit.state.withLock { $0.code != nil } }

    /// Sends a signal to the container's process group.
    func signal(_ sig: Int32) {
        guard !hasExited else { return }
        if kill(-pid, sig) != 0 { _ = kill(pid, sig) }
    }
}
