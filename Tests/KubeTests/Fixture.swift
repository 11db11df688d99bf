import CurlHTTP
import Foundation
import Kube
import KubeTestSupport
import HTTPTestSupport
import Logging

/// A test API server plus a client authenticated as `admin` by bearer token, over TLS with the test CA.
struct Fixture {
    let server: KubeAPIServer
    let client: KubeClient
    static let token = "admin-token"

    init(installCRDs: Bool = true, bookmarkInterval: Duration = .milliseconds(300)) throws {
        server = try KubeAPIServer(installCRDs: installCRDs, bookmarkInterval: bookmarkInterval)
        server.addToken(Self.token, for: .init(name: "admin"))
        client = try Self.client(for: server, credentials: .bearerToken(Self.token))
    }

    static func client(for server: KubeAPIServer, credentials: KubeConfig.Credentials,
                       tls: TLSOptions? = nil) throws -> KubeClient {
        let config = KubeConfig(server: server.baseURL,
                                tls: tls ?? TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                credentials: credentials, requestTimeout: .seconds(20))
        return try KubeClient(config: config, logger: Logger(label: "kube-test"))
    }

    func namespace(_ name: String) async throws {
        _ = try await client.create(Namespace(name: name))
    }

    static func pvc(_ name: String, _ ns: String, labels: [String: String] = [:]) -> PersistentVolumeClaim {
        var p = PersistentVolumeClaim(name: name, namespace: ns)
        p.metadata.labels = labels
        p.spec.accessModes = ["ReadWriteOnce"]
        p.spec.storageClassName = "fast"
        p.spec.resources.requests = ["storage": "1Gi"]
        return p
    }
}

/// Polls `condition` until it holds or `timeout` passes (waiting, not timing: the assertion is on the state).
func eventually(_ timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
