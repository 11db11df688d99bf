import Foundation
import KopiaTestSupport

/// Builds one of the Go peers under `scripts/peers/<name>/main.go` into `.build/<name>/<name>`, once per test run
/// and again only when the source is newer. GOPATH mode over Debian's Go packages (scripts/setup.sh installs
/// golang-go and the klauspost libraries), so no module is downloaded.
enum GoPeerBuild {
    static func build(_ name: String) -> Result<URL, T.PeerError> {
        let root = Fixtures.packageRoot
        let dir = root.appendingPathComponent(".build/\(name)")
        let exe = dir.appendingPathComponent(name)
        let source = root.appendingPathComponent("scripts/peers/\(name)/main.go")
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
            return .failure(T.PeerError(message: "building \(name) failed (run scripts/setup.sh): "
                                        + String(decoding: err, as: UTF8.self)))
        }
        return .success(exe)
    }
}
