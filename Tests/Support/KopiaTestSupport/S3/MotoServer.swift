#if canImport(Glibc)
import Glibc
#endif
public import Foundation
public import Kopia

/// A real S3 server on loopback for tests: `moto_server` (PyPI `moto[server]`, pinned in
/// scripts/requirements-test.txt), started on a free port and stopped by `stop()` or `withMotoServer`.
///
/// With `authenticated` (the default) the server runs with IAM authentication on (`INITIAL_NO_AUTH_ACTION_COUNT`):
/// the first few requests set up two users through the IAM API, after which every request must carry a valid SigV4
/// signature from a known key — so tests prove our signatures, and wrong credentials get moto's real
/// `SignatureDoesNotMatch` / `InvalidAccessKeyId` / `AccessDenied` answers. `admin` may do anything in S3; `reader`
/// may only get and list.
///
/// moto 5.2.1 bug, corrected here: in authenticated mode moto rebuilds the canonical request from werkzeug's
/// `request.url`, which has already decoded some escapes (`%2F` → `/` in the query; `%2B` → `+` and UTF-8 escapes
/// → characters in the path), and botocore does not re-encode them — so a ListObjectsV2 whose `prefix` holds `/`,
/// or a PUT of a key holding `+` or `ü`, fails with `SignatureDoesNotMatch` even from boto3, though AWS requires
/// exactly the escapes boto3 and we send. The server is therefore started through `launcher`, which canonicalizes
/// the path and query as AWS does (decoded, then re-encoded with only `A-Z a-z 0-9 - _ . ~` kept, plus `/` in the
/// path) before moto checks the signature. A request signed with a bare `/` in the canonical query still fails.
///
/// Buckets, uploads and read-backs for checks go through boto3 (`MotoPeer`), an independent S3 client.
public final class MotoServer: Sendable {
    public let port: Int
    public let scheme: String
    public let admin: S3Credentials
    public let reader: S3Credentials
    private let process: Process
    private let logFile: URL

    /// The server's process ID.
    public var processIdentifier: Int32 { process.processIdentifier }

    /// `http://127.0.0.1:<port>` (or `https://` when started with TLS).
    public var endpoint: String { "\(scheme)://127.0.0.1:\(port)" }

    /// IAM requests made before authentication starts (two users × create user, create key, put policy).
    static let setupRequests = 6

    /// `moto_server` with the canonical-query correction described above (moto 5.2.1, werkzeug 3.1).
    static let launcher = #"""
    import sys, urllib.parse
    from moto.iam import access_control as _ac
    _original = _ac.IAMRequestBase._create_aws_request
    def _encode(text, safe="-_.~"):
        return urllib.parse.quote(urllib.parse.unquote(text), safe=safe)
    def _create_aws_request(self):
        path, sep, query = self._path.partition("?")
        path = _encode(path, safe="/-_.~")
        self._path = path
        if sep:
            pairs = []
            for part in query.split("&"):
                if part:
                    name, _, value = part.partition("=")
                    pairs.append(_encode(name) + "=" + _encode(value))
            self._path = path + "?" + "&".join(pairs)
        return _original(self)
    _ac.IAMRequestBase._create_aws_request = _create_aws_request
    from moto.server import main
    main(sys.argv[1:])
    """#

    /// Starts moto. `tls` serves HTTPS with the given certificate and key (PEM paths).
    public static func start(tls: (certificate: String, key: String)? = nil, authenticated: Bool = true) async throws
        -> MotoServer
    {
        let port = try LoopbackPort.free()
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-moto-\(port)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var args = ["python3", "-c", launcher, "-H", "127.0.0.1", "-p", "\(port)"]
        if let tls { args += ["-c", tls.certificate, "-k", tls.key] }
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        if authenticated { env["INITIAL_NO_AUTH_ACTION_COUNT"] = "\(setupRequests)" }
        env["MOTO_ALLOW_NONEXISTENT_REGION"] = "true"
        process.environment = env
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        do {
            try process.run()
        } catch {
            throw TestServerError("cannot start moto_server (pip install -r scripts/requirements-test.txt): \(error)")
        }
        do {
            try await LoopbackPort.waitUntilListening(port, timeout: .seconds(90), process: process)
            let scheme = tls == nil ? "http" : "https"
            let users = try await MotoPeer.runDetached(endpoint: "\(scheme)://127.0.0.1:\(port)", credentials: nil,
                                                       commands: [["op": "setup-users"]])
            guard let u = (users.first as? MotoPeer.Box)?.value as? [String: Any], let admin = u["admin"] as? [String: String],
                  let reader = u["reader"] as? [String: String], let ak = admin["id"], let asec = admin["secret"],
                  let rk = reader["id"], let rsec = reader["secret"] else {
                throw TestServerError("moto IAM setup returned \(users)")
            }
            return MotoServer(port: port, scheme: scheme, process: process, logFile: log,
                              admin: S3Credentials(accessKeyID: ak, secretAccessKey: asec),
                              reader: S3Credentials(accessKeyID: rk, secretAccessKey: rsec))
        } catch {
            Self.terminate(process)
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw TestServerError("moto did not start: \(error)\n\(text.suffix(2000))")
        }
    }

    private init(port: Int, scheme: String, process: Process, logFile: URL, admin: S3Credentials, reader: S3Credentials) {
        self.port = port
        self.scheme = scheme
        self.process = process
        self.logFile = logFile
        self.admin = admin
        self.reader = reader
    }

    /// Stops the server and removes its log. Idempotent.
    public func stop() {
        Self.terminate(process)
        try? FileManager.default.removeItem(at: logFile)
    }

    /// SIGKILL and reap: werkzeug's development server does not reliably exit on SIGTERM, and a throw-away test
    /// server has nothing to save.
    static func terminate(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Runs boto3 commands as `admin` (see `MotoPeer` for the operations).
    @discardableResult
    public func peer(_ commands: [[String: any Sendable]]) async throws -> [Any] {
        try await MotoPeer.runDetached(endpoint: endpoint, credentials: admin, commands: commands)
            .map { ($0 as? MotoPeer.Box)?.value ?? NSNull() }
    }

    /// Creates a bucket (boto3).
    public func createBucket(_ name: String, region: String = "us-east-1") async throws {
        try await peer([["op": "create-bucket", "bucket": name, "region": region]])
    }

    /// Uploads a filesystem Kopia repository (sharded `.f` files) to `bucket` in Kopia's S3 layout:
    /// key = prefix + blob ID, no shards, no `.f` (kopia-format.md §1.3). Returns the number of blobs.
    @discardableResult
    public func uploadRepository(at directory: URL, bucket: String, prefix: String) async throws -> Int {
        let r = try await peer([["op": "upload-repo", "bucket": bucket, "prefix": prefix, "dir": directory.path]])
        return (r.first as? Int) ?? 0
    }

    /// Every object under `prefix`: key → (size, content type, SHA-256 hex), read back with boto3.
    public func objects(bucket: String, prefix: String) async throws
        -> [String: (size: Int, contentType: String, sha256: String)]
    {
        let r = try await peer([["op": "dump", "bucket": bucket, "prefix": prefix]])
        var out: [String: (size: Int, contentType: String, sha256: String)] = [:]
        for case let o as [String: Any] in (r.first as? [Any]) ?? [] {
            guard let key = o["key"] as? String else { continue }
            out[key] = ((o["size"] as? Int) ?? -1, (o["contentType"] as? String) ?? "", (o["sha256"] as? String) ?? "")
        }
        return out
    }

    /// Puts `count` small objects `prefix + name(i)` concurrently (boto3), for pagination tests.
    public func putMany(bucket: String, prefix: String, count: Int) async throws {
        try await peer([["op": "put-many", "bucket": bucket, "prefix": prefix, "count": count]])
    }
}

/// Runs `body` with a fresh moto server and stops the server afterwards, also when `body` throws.
public func withMotoServer<T>(tls: (certificate: String, key: String)? = nil, authenticated: Bool = true,
                              _ body: (MotoServer) async throws -> T) async throws -> T {
    await MotoSlots.shared.acquire()
    defer { MotoSlots.shared.release() }
    let server = try await MotoServer.start(tls: tls, authenticated: authenticated)
    defer { server.stop() }
    return try await body(server)
}
