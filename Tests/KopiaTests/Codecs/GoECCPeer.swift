import Foundation
import KopiaTestSupport

/// The independent Reed–Solomon peer: `scripts/peers/eccpeer`, a small Go program over klauspost/reedsolomon
/// (the library Kopia's ECC layer uses), from Debian's golang-github-klauspost-reedsolomon-dev (scripts/setup.sh
/// installs it and golang-go). Built once per test run into `.build/eccpeer/` in GOPATH mode, so no module is
/// downloaded.
enum GoECCPeer {
    static let binary: Result<URL, T.PeerError> = build()

    private static func build() -> Result<URL, T.PeerError> {
        let root = Fixtures.packageRoot
        let dir = root.appendingPathComponent(".build/eccpeer")
        let exe = dir.appendingPathComponent("eccpeer")
        let source = root.appendingPathComponent("scripts/peers/eccpeer/main.go")
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
            return .failure(T.PeerError(message: "building eccpeer failed (run scripts/setup.sh): " + String(decoding: err, as: UTF8.self)))
        }
        return .success(exe)
    }

    /// klauspost's parity shards of whole blocks of `d × s` bytes.
    static func parity(d: Int, p: Int, s: Int, blocks: [UInt8]) throws -> [UInt8] {
        try T.run(try binary.get().path, ["parity", "\(d)", "\(p)", "\(s)"], input: blocks)
    }

    /// klauspost's `ReconstructData` of one block's `d + p` shards with `missing` dropped: the d data shards.
    static func reconstruct(d: Int, p: Int, s: Int, shards: [UInt8], missing: [Int]) throws -> [UInt8] {
        try T.run(try binary.get().path, ["reconstruct", "\(d)", "\(p)", "\(s)"] + missing.map(String.init), input: shards)
    }
}
