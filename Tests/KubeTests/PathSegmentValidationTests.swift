import CurlHTTP
import Foundation
import Kube
import Logging
import Testing

/// Names and namespaces that users write are validated like client-go's path segments before any request
/// (issue 17 item 3): `.` would otherwise read the whole collection as one object.
struct PathSegmentValidationTests {
    static let badSegments = ["", ".", "..", "a/b", "../secrets", "a%2Fb", "%", "x/"]

    /// A client whose server does not exist: any request that is sent fails with `.transport`, so `.invalid`
    /// proves that nothing was sent.
    static func unreachableClient() throws -> KubeClient {
        try KubeClient(config: KubeConfig(server: "https://127.0.0.1:9", requestTimeout: .seconds(2)),
                       logger: Logger(label: "test"))
    }

    static func expectInvalid(_ what: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("\(what): accepted")
        } catch let e as KubeError {
            #expect(e.code == .invalid, "\(what): \(e)")
            #expect(e.status == 0)
            #expect(e.retry == .permanent)
        } catch {
            Issue.record("\(what): \(error)")
        }
    }

    @Test(arguments: badSegments)
    func badNamesAreRejectedBeforeAnyRequest(_ name: String) async throws {
        let client = try Self.unreachableClient()
        await Self.expectInvalid("get \(name)") {
            _ = try await client.get(PersistentVolumeClaim.self, name: name, namespace: "default")
        }
        await Self.expectInvalid("delete \(name)") {
            _ = try await client.delete(PersistentVolumeClaim.self, name: name, namespace: "default")
        }
        await Self.expectInvalid("patch \(name)") {
            _ = try await client.patch(PersistentVolumeClaim.self, name: name, namespace: "default",
                                       mergePatch: ["metadata": ["labels": ["a": "b"]]])
        }
        var object = PersistentVolumeClaim(name: name, namespace: "default")
        object.metadata.resourceVersion = "1"
        await Self.expectInvalid("update \(name)") { _ = try await client.update(object) }
        await Self.expectInvalid("cluster-scoped get \(name)") {
            _ = try await client.get(PersistentVolume.self, name: name)
        }
    }

    @Test(arguments: badSegments)
    func badNamespacesAreRejectedBeforeAnyRequest(_ namespace: String) async throws {
        let client = try Self.unreachableClient()
        await Self.expectInvalid("get in \(namespace)") {
            _ = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: namespace)
        }
        await Self.expectInvalid("list in \(namespace)") {
            _ = try await client.list(PersistentVolumeClaim.self, namespace: namespace)
        }
        await Self.expectInvalid("create in \(namespace)") {
            _ = try await client.create(PersistentVolumeClaim(name: "data", namespace: namespace))
        }
    }

    @Test func ordinaryNamesBuildTheExpectedPaths() throws {
        let pvc = PersistentVolumeClaim.resourceType
        #expect(try pvc.path(namespace: "prod", name: "web-data.1") == "/api/v1/namespaces/prod/persistentvolumeclaims/web-data.1")
        #expect(try pvc.path(namespace: nil) == "/api/v1/persistentvolumeclaims")
        #expect(try pvc.path(namespace: "a", name: "b", subresource: "status")
            == "/api/v1/namespaces/a/persistentvolumeclaims/b/status")
        #expect(PathSegment.problem("...") == nil)  // only exactly "." and ".." are dot segments
        #expect(PathSegment.problem("a:b") == nil)
    }

    @Test func aWellFormedRequestStillReachesTheTransport() async throws {
        let client = try Self.unreachableClient()
        let e = await #expect(throws: KubeError.self) {
            _ = try await client.get(PersistentVolumeClaim.self, name: "data", namespace: "default")
        }
        #expect(e?.code == .transport)
    }
}
