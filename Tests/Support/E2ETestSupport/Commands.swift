public import Foundation
import Synchronization

/// The output of one external command: stdout and stderr apart (client-go and Python log to stderr even when a
/// command succeeds; mixed into stdout such lines broke the parsing of jsonpath and JSON answers).
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var ok: Bool { status == 0 }

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs an external command (found on PATH) to completion, with `input` on stdin and `environment` added to ours.
/// A command still running after `timeout` is terminated (SIGTERM) and its partial output returned.
///
/// Async, and it never blocks the calling thread: the process is run and waited for on Dispatch threads. A test
/// blocking a cooperative-pool thread (two of them on this machine) for as long as kubectl runs starved the
/// in-process cluster's components when suites ran together.
public func runCommand(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
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
    let outputs = Mutex([Data(), Data()])  // stdout, stderr
    for (index, pipe) in [out, err].enumerated() {
        group.enter()
        DispatchQueue.global().async {
            let d = pipe.fileHandleForReading.readDataToEndOfFile()
            outputs.withLock { $0[index] = d }
            group.leave()
        }
    }
    let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
    if group.wait(timeout: .now() + seconds) == .timedOut { p.terminate() }
    group.wait()
    p.waitUntilExit()
    let (stdout, stderr) = outputs.withLock { ($0[0], $0[1]) }
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

/// Where the repository and the built `ferry` are.
public enum E2EPaths {
    /// The package root (this file is `Tests/Support/E2ETestSupport/Commands.swift`).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built `ferry` executable (beside the test bundle), or `FERRY_BINARY`.
    public static var ferryBinary: String {
        if let override = ProcessInfo.processInfo.environment["FERRY_BINARY"], !override.isEmpty { return override }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ferry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/ferry").path
    }
}
