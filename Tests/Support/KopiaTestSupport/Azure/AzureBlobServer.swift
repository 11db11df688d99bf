public import Foundation
import Synchronization

/// `azure_blob_server.py` on loopback: an Azure-Blob-compatible test server that verifies Shared Key or SAS on every
/// request (no Azure emulator is installable here), with the official Python SDK (`azure_peer.py`) as the
/// independent peer for uploads and read-backs.
///
/// Ferry reaches it virtual-host style through libcurl's built-in `*.localhost` loopback names:
/// `AZURE_STORAGE_DOMAIN=http://localhost:<port>` → `http://<account>.localhost:<port>/`. The SDK uses the
/// path-style form (`http://127.0.0.1:<port>/<account>`), which the server also accepts.
public final class AzureBlobServer: Sendable {
    public let server: ServerProcess
    public let account: String
    /// The account key, Base64 (as the portal shows it).
    public let key: String
    public var port: Int { server.port }
    /// The `AZURE_STORAGE_DOMAIN` value that reaches this server over plain HTTP.
    public var domain: String { "http://localhost:\(port)" }

    public static func start(account: String = "ferrytest", pageSize: Int = 1000) async throws -> AzureBlobServer {
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
        let port = try LoopbackPort.free()
        let server = try await ServerProcess.start(name: "azure-blob-server", arguments: [
            "python3", PeerScripts.path("azure_blob_server.py"), "\(port)", account, key, "\(pageSize)",
        ], port: port)
        return AzureBlobServer(server: server, account: account, key: key)
    }

    private init(server: ServerProcess, account: String, key: String) {
        self.server = server
        self.account = account
        self.key = key
    }

    public func stop() { server.stop() }

    private static let sharedTask = Mutex<Task<AzureBlobServer, any Error>?>(nil)

    /// One server for the whole test process; tests isolate themselves with their own container.
    public static func shared() async throws -> AzureBlobServer {
        let task = sharedTask.withLock { current -> Task<AzureBlobServer, any Error> in
            if let current { return current }
            let started = Task { try await AzureBlobServer.start() }
            current = started
            return started
        }
        return try await task.value
    }

    /// The environment VolSync's mover Secret gives for this server (container root, shared key).
    public func moverEnvironment(container: String) -> [String: String] {
        ["KOPIA_AZURE_CONTAINER": container, "KOPIA_AZURE_STORAGE_ACCOUNT": account, "KOPIA_AZURE_STORAGE_KEY": key,
         "AZURE_STORAGE_DOMAIN": domain]
    }

    /// Runs SDK commands (`azure_peer.py`); one result per command.
    @discardableResult
    public func peer(_ commands: [[String: any Sendable]]) async throws -> [Any] {
        let input = try JSONSerialization.data(withJSONObject: commands)
        let out = try await PeerScripts.run("azure_peer.py", ["http://127.0.0.1:\(port)/\(account)", account, key],
                                            input: input)
        guard let list = try JSONSerialization.jsonObject(with: out) as? [Any] else {
            throw TestServerError("azure_peer.py printed no JSON list")
        }
        return list
    }

    public func createContainer(_ name: String) async throws {
        try await peer([["op": "create-container", "container": name]])
    }

    @discardableResult
    public func uploadRepository(at directory: URL, container: String, prefix: String) async throws -> Int {
        let r = try await peer([["op": "upload-repo", "container": container, "prefix": prefix, "dir": directory.path]])
        return (r.first as? Int) ?? -1
    }

    /// Every blob under `prefix`: name → (size, SHA-256 hex, metadata), read back with the SDK.
    public func blobs(container: String, prefix: String) async throws
        -> [String: (size: Int, sha256: String, metadata: [String: String])]
    {
        let r = try await peer([["op": "dump", "container": container, "prefix": prefix]])
        var out: [String: (size: Int, sha256: String, metadata: [String: String])] = [:]
        for case let o as [String: Any] in (r.first as? [Any]) ?? [] {
            guard let name = o["name"] as? String else { continue }
            out[name] = ((o["size"] as? Int) ?? -1, (o["sha256"] as? String) ?? "", (o["metadata"] as? [String: String]) ?? [:])
        }
        return out
    }

    public func putMany(container: String, prefix: String, count: Int) async throws {
        try await peer([["op": "put-many", "container": container, "prefix": prefix, "count": count]])
    }

    /// A container SAS made by the SDK (`permission` like "racwdl"; negative `minutes` gives an expired token).
    public func sas(container: String, permission: String, minutes: Int = 60) async throws -> String {
        let r = try await peer([["op": "sas", "container": container, "permission": permission, "minutes": minutes]])
        guard let token = r.first as? String else { throw TestServerError("no SAS from the SDK") }
        return token
    }

    /// `{"sharedKey": n, "sas": n, "rejected": n, "requests": n}` — requests the server authorized, by kind.
    public func stats() async throws -> [String: Int] {
        let out = try await PeerScripts.run("http_get.py", ["http://127.0.0.1:\(port)/_stats"])
        return (try JSONSerialization.jsonObject(with: out) as? [String: Int]) ?? [:]
    }
}
