import Foundation

/// Repository paths, derived from this file's location (STYLE.md rule 14).
enum RepoPaths {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let proto = root.appendingPathComponent("proto/csi.proto").path
    /// The official csi.proto, at `../shared/reference/csi.proto` (override with `FERRY_CSI_REFERENCE`).
    static var referenceProto: String {
        ProcessInfo.processInfo.environment["FERRY_CSI_REFERENCE"]
            ?? root.deletingLastPathComponent().appendingPathComponent("shared/reference/csi.proto").path
    }
    static let scripts = root.appendingPathComponent("Tests/CSITests/Scripts").path
}

/// Runs a command to completion and returns its exit status and combined output. Output goes through a file,
/// not a pipe (a pipe's write end leaks into concurrently spawned long-lived children, and EOF never comes),
/// and the wait polls, so no cooperative thread blocks.
func run(_ arguments: [String], in directory: String = RepoPaths.root.path) async throws -> (status: Int32, output: String) {
    let child = try ChildProcess(arguments, directory: directory)
    let status = try await child.wait()
    let output = child.output
    await child.terminate()
    return (status, output)
}

/// A child process whose output goes to a temporary file, awaited without blocking a cooperative thread.
final class ChildProcess: @unchecked Sendable {  // Process is thread-safe for run/terminate/wait; fields immutable
    let process = Process()
    let outputPath: String

    init(_ arguments: [String], directory: String = RepoPaths.root.path) throws {
        outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-child-\(UUID().uuidString).log").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        try handle.close()
    }

    var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits for exit (polling, so no thread blocks) and returns the status.
    func wait() async throws -> Int32 {
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    /// SIGTERM, then SIGKILL if the child is still running two seconds later; waits for it to exit.
    func terminate() async {
        if process.isRunning { process.terminate() }
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = try? await wait()
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}

/// Python stubs for proto/csi.proto, generated into a fresh temporary directory.
func generatePythonStubs() async throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-pystubs-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let result = try await run(["python3", RepoPaths.scripts + "/csi_peer.py", "gen", dir, RepoPaths.root.path + "/proto"])
    guard result.status == 0 else { throw StubGenerationFailed(output: result.output) }
    return dir
}

struct StubGenerationFailed: Error { var output: String }

/// The `ferry` binary SwiftPM built next to this test bundle.
var ferryBinary: String {
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    return bundle.appendingPathComponent("ferry").path
}

import GRPCTransport
import Logging

/// A gRPC server that serves nothing CSI (every call is UNIMPLEMENTED).
struct GRPCServerWithoutCSI {
    let server: GRPCServer
    init(path: String) throws {
        server = try GRPCServer(
            configuration: .init(address: path), handlers: ["/other.Service/Ping": { request, _ in request }],
            logger: Logger(label: "ferry.test"))
    }
    func stop() async { await server.shutdown() }
}

/// Removes the temporary directory of a socket path from `temporaryCSISocketPath()`.
func removeSocketDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
}
