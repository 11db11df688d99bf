#if canImport(Glibc)
import Glibc
#endif
public import Foundation
import Synchronization

/// A long-running test server process (an emulator, a Python test server) on a loopback port: started by
/// `start`, killed by `stop()` or when the test process exits (an `atexit` handler kills every server still
/// running, so shared servers never outlive the suite).
public final class ServerProcess: Sendable {
    public let port: Int
    public let name: String
    private let process: Process
    private let logFile: URL

    /// `http://127.0.0.1:<port>`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts `arguments` (the first is the executable, looked up on PATH via /usr/bin/env) and waits until `port`
    /// accepts connections.
    public static func start(name: String, arguments: [String], port: Int, environment: [String: String] = [:],
                             timeout: Duration = .seconds(60)) async throws -> ServerProcess {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-\(name)-\(port)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        do {
            try process.run()
        } catch {
            throw TestServerError("cannot start \(name) (\(arguments.first ?? "")): \(error)")
        }
        Self.track(process.processIdentifier, log: log.path)
        let server = ServerProcess(port: port, name: name, process: process, logFile: log)
        do {
            try await LoopbackPort.waitUntilListening(port, timeout: timeout, process: process)
        } catch {
            let text = server.log
            server.stop()
            throw TestServerError("\(name) did not start: \(error)\n\(text.suffix(2000))")
        }
        return server
    }

    private init(port: Int, name: String, process: Process, logFile: URL) {
        self.port = port
        self.name = name
        self.process = process
        self.logFile = logFile
    }

    /// What the server printed so far.
    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Kills the server (SIGKILL: a throw-away test server has nothing to save) and removes its log. Idempotent.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        Self.untrack(process.processIdentifier)
        try? FileManager.default.removeItem(at: logFile)
    }

    deinit { stop() }

    /// Servers still running (pid → log path), killed and cleaned up at exit.
    private static let running = Mutex<[Int32: String]>([:])
    private static let atexitInstalled = Atomic<Bool>(false)

    private static func track(_ pid: Int32, log: String) {
        running.withLock { $0[pid] = log }
        if !atexitInstalled.exchange(true, ordering: .relaxed) {
            atexit {
                for (pid, log) in ServerProcess.running.withLock({ $0 }) {
                    kill(pid, SIGKILL)
                    unlink(log)
                }
            }
        }
    }

    private static func untrack(_ pid: Int32) { running.withLock { _ = $0.removeValue(forKey: pid) } }
}

/// The Python helper scripts under Tests/Support/KopiaTestSupport/Scripts, run as peers.
public enum PeerScripts {
    /// Absolute path of a script in the Scripts folder.
    public static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts")
            .appendingPathComponent(name).path
    }

    /// Runs `python3 <script> <arguments>` with `input` on standard input, on a dedicated thread (never blocking
    /// Swift's cooperative pool), and returns standard output. Files, not pipes, carry the data.
    /// - Throws: `TestServerError` with standard error when the script exits non-zero.
    public static func run(_ script: String, _ arguments: [String], input: Data = Data(),
                           environment: [String: String] = [:]) async throws -> Data {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Data, any Error>) in
            let thread = Thread {
                do {
                    c.resume(returning: try runBlocking(script, arguments, input: input, environment: environment))
                } catch {
                    c.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    static func runBlocking(_ script: String, _ arguments: [String], input: Data,
                            environment: [String: String]) throws -> Data {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in"), outURL = dir.appendingPathComponent("out")
        let errURL = dir.appendingPathComponent("err")
        try input.write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path(script)] + arguments
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env["PYTHONWARNINGS"] = "ignore"
        process.environment = env
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw TestServerError("\(script) failed (\(process.terminationStatus)): \(err.suffix(3000))")
        }
        return try Data(contentsOf: outURL)
    }
}
