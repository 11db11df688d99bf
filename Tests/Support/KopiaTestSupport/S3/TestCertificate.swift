public import Foundation

/// A throw-away self-signed certificate for `127.0.0.1` (made with the `openssl` command), for HTTPS test servers.
/// The certificate is its own CA: pass `certificatePath` as the CA bundle to trust it.
public struct TestCertificate: Sendable {
    public var directory: URL
    public var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    public var keyPath: String { directory.appendingPathComponent("key.pem").path }

    /// Generates a new key and certificate in a fresh temporary directory.
    public static func make(commonName: String = "127.0.0.1") throws -> TestCertificate {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-cert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = TestCertificate(directory: dir)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", cert.keyPath,
                       "-out", cert.certificatePath, "-days", "2", "-subj", "/CN=\(commonName)",
                       "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                       "-addext", "basicConstraints=critical,CA:TRUE"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestServerError("openssl req failed (\(p.terminationStatus))") }
        return cert
    }

    /// Removes the directory.
    public func remove() { try? FileManager.default.removeItem(at: directory) }
}
