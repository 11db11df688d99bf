#if canImport(Glibc)
import Glibc
#endif
public import Foundation

/// A `ferry controller` child process (its output appended to a log file); stopped with SIGTERM, or killed.
public final class FerryProcess: @unchecked Sendable {  // @unchecked: the Process is guarded by `lock`
    public let log: URL
    private let lock = NSLock()
    private var process: Process?

    public init(log: URL) { self.log = log }

    /// Starts `ferry controller` with `arguments` (`FERRY_LOG_LEVEL=info`).
    public func start(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: E2EPaths.ferryBinary)
        p.arguments = ["controller"] + arguments
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        var env = ProcessInfo.processInfo.environment
        env["FERRY_LOG_LEVEL"] = "info"
        p.environment = env
        try p.run()
        lock.withLock { process = p }
    }

    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// SIGKILL without waiting (for `defer` blocks); nothing if not running.
    public func killNow() {
        guard let p = lock.withLock({ process }), p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
    }

    /// SIGKILL, then waits for the exit.
    public func kill9() async {
        guard let p = lock.withLock({ process }) else { return }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        await waitForExit(p, .seconds(10))
    }

    /// SIGTERM, then SIGKILL after 10 s.
    public func stop() async {
        guard let p = lock.withLock({ process }) else { return }
        await terminate(p, grace: .seconds(10))
    }

    /// Runs the built `ferry` with `arguments` and `environment` added to ours; returns (status, stdout+stderr).
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: E2EPaths.ferryBinary)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// SIGTERM, up to `grace` for the exit, then SIGKILL and up to 5 s more. Nothing if `process` is not running.
public func terminate(_ process: Process, grace: Duration) async {
    guard process.isRunning else { return }
    kill(process.processIdentifier, SIGTERM)
    await waitForExit(process, grace)
    if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        await waitForExit(process, .seconds(5))
    }
}

func waitForExit(_ p: Process, _ timeout: Duration) async {
    let end = ContinuousClock.now + timeout
    while p.isRunning, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(20)) }
}
