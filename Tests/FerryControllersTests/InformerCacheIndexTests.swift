import CurlHTTP
import FerryControllers
import Foundation
import HTTPTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing

/// InformerCache's key-only lookups (over packed claims) answer what the decoding ones answer.
struct InformerCacheIndexTests {
    static let token = "admin-token"

    static func claim(_ name: String, ns: String, link: String? = nil, snapshot: String? = nil, bound: Bool) -> PersistentVolumeClaim {
        var c = PersistentVolumeClaim(name: name, namespace: ns)
        c.spec.accessModes = ["ReadWriteOnce"]
        c.spec.storageClassName = "fast"
        c.spec.resources.requests = ["storage": "1Gi"]
        var r = TypedObjectReference()
        if let link { r.apiGroup = "ferry.io"; r.kind = "DataSourceLink"; r.name = link }
        if let snapshot { r.apiGroup = "snapshot.storage.k8s.io"; r.kind = "VolumeSnapshot"; r.name = snapshot }
        c.spec.dataSourceRef = r
        if bound { c.spec.volumeName = "pv-\(name)" }
        return c
    }

    @Test func dependentClaimKeysFollowBindingAndLinks() async throws {
        let server = try KubeAPIServer(installCRDs: true, bookmarkInterval: .milliseconds(200))
        defer { server.stop() }
        server.addToken(Self.token, for: .init(name: "admin"))
        let client = try KubeClient(config: KubeConfig(server: server.baseURL,
                                                       tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                                       credentials: .bearerToken(Self.token), requestTimeout: .seconds(20)),
                                    logger: Logger(label: "t"))
        for ns in ["prod", "staging"] { _ = try await client.create(Namespace(name: ns)) }
        var link = DataSourceLink(name: "nightly", namespace: "staging")
        var ref = TypedObjectReference()
        ref.apiGroup = "snapshot.storage.k8s.io"; ref.kind = "VolumeSnapshot"; ref.name = "snap"; ref.namespace = "prod"
        link.spec.sourceRef = ref
        _ = try await client.create(link)
        for c in [Self.claim("direct-pending", ns: "prod", snapshot: "snap", bound: false),
                  Self.claim("direct-bound", ns: "prod", snapshot: "snap", bound: true),
                  Self.claim("linked-pending", ns: "staging", link: "nightly", bound: false),
                  Self.claim("linked-bound", ns: "staging", link: "nightly", bound: true),
                  Self.claim("other", ns: "prod", snapshot: "other", bound: false)] {
            _ = try await client.create(c)
        }
        let cache = InformerCache(client: client, served: .init(links: true, grantVersion: "v1beta1", snapshots: true),
                                  logger: Logger(label: "t"))
        let task = Task { await cache.run() }
        defer { task.cancel() }
        await cache.waitForSync()
        let source = SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "prod", name: "snap")
        func names(_ keys: [ObjectKey]) -> Set<String> { Set(keys.map { $0.description }) }
        func decoding() -> Set<String> { names(cache.claims(referencing: source).filter(SourceProtection.isDependent).map(\.key)) }

        #expect(names(cache.dependentClaimKeys(of: source)) == ["prod/direct-pending", "staging/linked-pending"])
        #expect(names(cache.dependentClaimKeys(of: source)) == decoding())
        #expect(names(cache.dependentClaims(of: source).map(\.key)) == decoding())
        #expect(names(cache.claims(referencing: source).map(\.key)).count == 4)
        // What a grant change in prod wakes: the waiting claims (direct and through the link) and the link.
        let grantWakes = cache.dependents(ofSourceNamespace: "prod")
        #expect(names(grantWakes.claims) == ["prod/direct-pending", "staging/linked-pending", "prod/other"])
        #expect(names(grantWakes.links) == ["staging/nightly"])

        // A pending claim gets its volume: it stops depending on the source.
        var c = try await client.get(PersistentVolumeClaim.self, name: "linked-pending", namespace: "staging")
        c.spec.volumeName = "pv-linked-pending"
        _ = try await client.update(c)
        let left = await eventually { names(cache.dependentClaimKeys(of: source)) == ["prod/direct-pending"] }
        #expect(left)
        #expect(names(cache.dependentClaimKeys(of: source)) == decoding())

        // A new claim through the link depends on it; the link's deletion takes its claims out of the answer.
        _ = try await client.create(Self.claim("linked-new", ns: "staging", link: "nightly", bound: false))
        let added = await eventually { names(cache.dependentClaimKeys(of: source)) == ["prod/direct-pending", "staging/linked-new"] }
        #expect(added)
        try await client.delete(DataSourceLink.self, name: "nightly", namespace: "staging")
        let unlinked = await eventually { names(cache.dependentClaimKeys(of: source)) == ["prod/direct-pending"] }
        #expect(unlinked)
        #expect(names(cache.dependentClaimKeys(of: source)) == decoding())
        #expect(names(cache.claims(usingLink: ObjectKey(namespace: "staging", name: "nightly"))) == ["staging/linked-bound", "staging/linked-pending", "staging/linked-new"])
    }
}
