import Foundation
import KopiaTestSupport

/// Runs the built `ferry` binary as a subprocess (the real CLI, flags, environment and exit codes).
///
/// The binary is found beside the test bundle (`swift build --build-tests` builds it), or at `FERRY_BINARY`.
enum FerryProcess {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var binary: URL {
        if let override = ProcessInfo.processInfo.environment["FERRY_BINARY"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        // On Linux the tests run inside <bin>/ferryPackageTests.xctest; on macOS inside a bundle's MacOS folder.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ferry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Fixtures.packageRoot.appendingPathComponent(".build/debug/ferry")
    }

    /// Runs `ferry args…` with a clean environment plus `environment` (no inherited KOPIA_* variables).
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("KOPIA_") }
        env.merge(environment) { $1 }
        process.environment = env
        // Output goes to temporary files, so a large listing can never block on a full pipe.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout")
        let errURL = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// The environment that opens fixture `name`.
    static func fixtureEnvironment(_ name: String) -> [String: String] {
        ["KOPIA_REPOSITORY": "filesystem://" + Fixtures.kopia(name).path, "KOPIA_PASSWORD": Fixtures.password]
    }
}
