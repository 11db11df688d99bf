import CurlHTTP
import FerryControllers
import Foundation
import KopiaTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing
import Yams

/// Every YAML block of the Kopia guides (docs/kopia-*.md) is created through the API server, and every
/// KopiaSnapshot in them is a spec Ferry accepts (KopiaSourceSelection, RepositoryCredentials for the Secrets).
struct KopiaDocsYAMLTests {
    static let guides = ["kopia-cross-namespace-restore.md", "kopia-shared-repository.md"]

    /// The ```yaml blocks of a guide, each split into its documents.
    static func documents(_ guide: String) throws -> [JSONObject] {
        let text = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/\(guide)"), encoding: .utf8)
        var out: [JSONObject] = []
        var block: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if block == nil, line.hasPrefix("```yaml") { block = []; continue }
            if block != nil, line.hasPrefix("```") {
                for doc in try Yams.load_all(yaml: (block ?? []).joined(separator: "\n")) {
                    if let value = Self.json(doc), let o = value.object { out.append(o) }
                }
                block = nil
                continue
            }
            block?.append(line)
        }
        return out
    }

    static func json(_ any: Any) -> JSONValue? {
        switch any {
        case let s as String: return .string(s)
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(Int64(i))
        case let d as Double: return .double(d)
        case let a as [Any]: return .array(a.compactMap(json))
        case let m as [String: Any]: return .object(m.compactMapValues(json))
        default: return nil
        }
    }

    @Test(arguments: guides)
    func everyObjectOfTheGuideIsAcceptedByTheAPIServerAndByFerry(_ guide: String) async throws {
        let docs = try Self.documents(guide)
        #expect(docs.count >= 5)
        let server = try KubeAPIServer(installCRDs: true)
        defer { server.stop() }
        server.addToken("t", for: .init(name: "admin", groups: ["system:masters"]))
        let client = try KubeClient(config: KubeConfig(server: server.baseURL,
                                                       tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                                       credentials: .bearerToken("t")), logger: Logger(label: "docs"))
        var namespaces: Set<String> = []
        for doc in docs {
            let meta = ObjectMeta(object: doc["metadata"]?.object ?? [:])
            if let ns = meta.namespace, namespaces.insert(ns).inserted { _ = try await client.create(Namespace(name: ns)) }
            let name = meta.name ?? "?"
            switch doc["kind"]?.string {
            case "Secret":
                let s = try await client.create(Secret(object: doc))
                if let ks = docs.first(where: { $0["kind"]?.string == "KopiaSnapshot" && ObjectMeta(object: $0["metadata"]?.object ?? [:]).namespace == s.namespace }) {
                    let pvc = KopiaSnapshotSpec(object: ks["spec"]?.object ?? [:]).repositoryPVC
                    #expect(throws: Never.self, "\(guide): Secret \(name)") { _ = try RepositoryCredentials(secret: Secret(object: doc), repositoryPVC: pvc) }
                }
            case "KopiaSnapshot":
                let ks = try await client.create(KopiaSnapshot(object: doc))
                #expect(throws: Never.self, "\(guide): KopiaSnapshot \(name)") {
                    _ = try KopiaSourceSelection(spec: ks.spec, namespace: ks.namespace ?? "")
                }
            case "ReferenceGrant": _ = try await client.create(ReferenceGrant(object: doc))
            case "DataSourceLink": _ = try await client.create(DataSourceLink(object: doc))
            case "PersistentVolumeClaim": _ = try await client.create(PersistentVolumeClaim(object: doc))
            case let other: Issue.record("\(guide): unexpected kind \(other ?? "nil") in \(name)")
            }
        }
    }
}
