public import Foundation

/// TLS material for the loopback HTTPS servers of the local control plane, generated with the `openssl` CLI
/// (`/usr/bin/openssl`; the local control plane runs only where it exists).
///
/// Layout: one CA signs the server certificate (SAN `IP:127.0.0.1`, `DNS:localhost`) and three client certificates:
/// `CN=kubernetes-admin, O=system:masters` (the cluster-admin of a local cluster's kubeconfig, as kubeadm names it),
/// `CN=alice, O=ferry-admins` and `CN=bob`; a second, unrelated CA exists so tests can provoke verification failures.
/// Keys are EC P-256; certificates are valid for 3 days.
public struct LocalCertificates: Sendable {
    public let directory: URL
    public var caCertificate: String { path("ca.crt") }
    public var serverCertificate: String { path("server.crt") }
    public var serverKey: String { path("server.key") }
    public var aliceCertificate: String { path("alice.crt") }
    public var aliceKey: String { path("alice.key") }
    public var bobCertificate: String { path("bob.crt") }
    public var bobKey: String { path("bob.key") }
    /// Client certificate of `kubernetes-admin` in group `system:masters`.
    public var adminCertificate: String { path("admin.crt") }
    public var adminKey: String { path("admin.key") }
    /// A CA that signed nothing the server presents.
    public var otherCACertificate: String { path("other-ca.crt") }

    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    public func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: directory.appendingPathComponent(name))) }

    /// The process-wide set (generated on first use).
    public static func shared() throws -> LocalCertificates {
        try cache.withLock { cached in
            if let cached { return cached }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-tls-\(UUID().uuidString)")
            let made = try generate(in: dir)
            cached = made
            return made
        }
    }

    private static let cache = LockedBox<LocalCertificates?>(nil)

    /// Generates a fresh set into `dir` (created if missing; existing files are overwritten).
    public static func generate(in dir: URL) throws -> LocalCertificates {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let certs = LocalCertificates(directory: dir)
        func ssl(_ args: [String]) throws { try runOpenSSL(args, in: dir) }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try ssl(["req", "-x509"] + ec + ["-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "3",
                                              "-subj", "/CN=ferry-test-\(ca)"])
        }
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
            .write(to: dir.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(to: dir.appendingPathComponent("client.ext"), atomically: true, encoding: .utf8)
        for (name, subject, ext) in [("server", "/CN=127.0.0.1", "server.ext"), ("alice", "/O=ferry-admins/CN=alice", "client.ext"),
                                     ("bob", "/CN=bob", "client.ext"),
                                     ("admin", "/O=system:masters/CN=kubernetes-admin", "client.ext")] {
            try ssl(["req"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
            try ssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "\(name).crt", "-days", "3", "-extfile", ext])
        }
        return certs
    }

    private static func runOpenSSL(_ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.currentDirectoryURL = dir
        p.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw LocalServerError("openssl \(args.first ?? "") failed: \(text)")
        }
    }
}

public struct LocalServerError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A lock-protected value for code that runs on plain threads (the HTTPS server's connection threads).
public final class LockedBox<Value>: @unchecked Sendable {  // @unchecked: every access goes through `lock`
    private let lock = NSLock()
    private var value: Value
    public init(_ value: Value) { self.value = value }
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
