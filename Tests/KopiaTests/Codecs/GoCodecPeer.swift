import Foundation
import KopiaTestSupport

/// The independent compression peer: `scripts/peers/codecpeer`, a small Go program over klauspost/compress
/// (the library Kopia compresses with), from Debian's golang-github-klauspost-compress-dev (scripts/setup.sh
/// installs it and golang-go). Built once per test run into `.build/codecpeer/` in GOPATH mode, so no
/// module is downloaded.
enum GoCodecPeer {
    static let binary: Result<URL, T.PeerError> = build()

    private static func build() -> Result<URL, T.PeerError> {
        let root = Fixtures.packageRoot
        let dir = root.appendingPathComponent(".build/codecpeer")
        let exe = dir.appendingPathComponent("codecpeer")
        let source = root.appendingPathComponent("scripts/peers/codecpeer/main.go")
        let fm = FileManager.default
        if let built = try? fm.attributesOfItem(atPath: exe.path)[.modificationDate] as? Date,
           let edited = try? fm.attributesOfItem(atPath: source.path)[.modificationDate] as? Date, built > edited {
            return .success(exe)
        }
        try? fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["go", "build", "-o", exe.path, source.path]
        var env = ProcessInfo.processInfo.environment
        env["GO111MODULE"] = "off"
        env["GOPATH"] = "/usr/share/gocode"
        env["GOCACHE"] = dir.appendingPathComponent("gocache").path
        env["GOFLAGS"] = ""
        process.environment = env
        let errPipe = Pipe()
        process.standardError = errPipe
        do { try process.run() } catch { return .failure(T.PeerError(message: "cannot run go: \(error)")) }
        let err = errPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(T.PeerError(message: "building codecpeer failed (run scripts/setup.sh): " + String(decoding: err, as: UTF8.self)))
        }
        return .success(exe)
    }

    /// Runs the peer in `mode` over `input`; returns its stdout.
    static func run(_ mode: String, _ input: [UInt8], blockSize: Int? = nil) throws -> [UInt8] {
        let exe = try binary.get()
        return try T.run(exe.path, [mode] + (blockSize.map { [String($0)] } ?? []), input: input)
    }
}
