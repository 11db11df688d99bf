public import Foundation
public import Kopia

/// `gcs_auth_gateway.py` in front of a `FakeGCSServer`: Google's token endpoint (assertions verified with
/// google-auth) and bearer-token checks on every request, so Ferry's JWT signing, token exchange, caching, refresh
/// and 401 handling meet a server that can say no.
///
/// Each gateway has its own throw-away RSA service-account key (made with the `openssl` command), written as a
/// key JSON whose `token_uri` points at the gateway.
public final class GCSAuthGateway: Sendable {
    public let server: ServerProcess
    public let key: GCSServiceAccountKey
    /// The key JSON on disk (for `GOOGLE_APPLICATION_CREDENTIALS` as a path).
    public let keyPath: String
    public let publicKeyPath: String
    public let directory: URL
    public var endpoint: String { server.endpoint }

    public static let clientEmail = "ferry-test@ferry-project.iam.gserviceaccount.com"

    /// Starts a gateway to `upstream` whose tokens live `tokenLifetime` seconds.
    public static func start(upstream: FakeGCSServer, tokenLifetime: Int = 3600) async throws -> GCSAuthGateway {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-gcs-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let port = try LoopbackPort.free()
        let (keyPath, publicPath, key) = try makeKey(in: dir, name: "sa",
                                                     tokenURI: "http://127.0.0.1:\(port)/token")
        let server = try await ServerProcess.start(name: "gcs-auth-gateway", arguments: [
            "python3", PeerScripts.path("gcs_auth_gateway.py"), "\(port)", upstream.endpoint, publicPath, clientEmail,
            "\(tokenLifetime)",
        ], port: port)
        return GCSAuthGateway(server: server, key: key, keyPath: keyPath, publicKeyPath: publicPath, directory: dir)
    }

    private init(server: ServerProcess, key: GCSServiceAccountKey, keyPath: String, publicKeyPath: String,
                 directory: URL) {
        self.server = server
        self.key = key
        self.keyPath = keyPath
        self.publicKeyPath = publicKeyPath
        self.directory = directory
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A fresh RSA key with the same e-mail and token URI (the gateway will refuse its assertions).
    public func otherKey() throws -> GCSServiceAccountKey {
        try Self.makeKey(in: directory, name: "other-\(UUID().uuidString)", tokenURI: key.tokenURI).key
    }

    /// `{"tokens": …, "forwarded": …, "rejected": …}`.
    public func stats() async throws -> [String: Int] {
        let out = try await PeerScripts.run("http_get.py", ["\(endpoint)/_gateway/stats"])
        return (try JSONSerialization.jsonObject(with: out) as? [String: Int]) ?? [:]
    }

    /// Forgets every issued token (a server-side revocation: the next request with a cached token gets 401).
    public func revokeAll() async throws {
        _ = try await PeerScripts.run("http_get.py", ["\(endpoint)/_gateway/revoke"])
    }

    /// Makes an RSA-2048 key pair with `openssl` and a service-account JSON around the private key.
    static func makeKey(in dir: URL, name: String, tokenURI: String) throws
        -> (keyPath: String, publicPath: String, key: GCSServiceAccountKey)
    {
        let pem = dir.appendingPathComponent("\(name).pem").path
        let pub = dir.appendingPathComponent("\(name).pub.pem").path
        try runOpenSSL(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pem])
        try runOpenSSL(["pkey", "-in", pem, "-pubout", "-out", pub])
        let privateKey = try String(contentsOfFile: pem, encoding: .utf8)
        let keyID = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let json: [String: String] = [
            "type": "service_account", "project_id": "ferry-project", "private_key_id": keyID,
            "private_key": privateKey, "client_email": clientEmail, "client_id": "1234567890",
            "token_uri": tokenURI,
        ]
        let path = dir.appendingPathComponent("\(name).json").path
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        let key = GCSServiceAccountKey(clientEmail: clientEmail, privateKeyPEM: privateKey, privateKeyID: keyID,
                                       tokenURI: tokenURI, projectID: "ferry-project")
        return (path, pub, key)
    }

    private static func runOpenSSL(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl"] + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestServerError("openssl \(arguments.first ?? "") failed") }
    }
}
