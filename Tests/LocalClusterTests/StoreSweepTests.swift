import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The kubernetes-validate sweep (`scripts/validate-store-dumps.py`) reports invalid built-in objects and passes
/// valid ones; run-tests.sh runs it over every local cluster's store dump after the suites.
struct StoreSweepTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/validate-store-dumps.py").standardizedFileURL.path

    func sweep(_ items: [JSONValue]) async throws -> CommandResult {
        let dir = try TemporaryDirectory()
        try Data(JSONCoding.serialize(["items": .array(items)])).write(to: dir.url.appendingPathComponent("dump.json"))
        return try await runCommand("python3", [Self.script, dir.url.path])
    }

    @Test func sweepReportsAnInvalidAndAnUnknownFieldButPassesAStoredCluster() async throws {
        let bad: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolumeClaim",
                              "metadata": ["name": "bad", "namespace": "default"],
                              "spec": ["accessModes": "ReadWriteOnce"]]
        let unknown: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm", "namespace": "default"],
                                  "dataa": ["k": "v"]]
        let custom: JSONValue = ["apiVersion": "example.com/v1", "kind": "Anything", "metadata": ["name": "x"], "whatever": 1]
        let result = try await sweep([bad, unknown, custom])
        #expect(!result.ok)
        #expect(result.stdout.contains("INVALID dump.json: PersistentVolumeClaim default/bad: spec.accessModes"), "\(result.stdout)")
        #expect(result.stdout.contains("ConfigMap default/cm"), "\(result.stdout)")
        #expect(result.stdout.contains("2 built-in objects, 2 invalid"), "\(result.stdout)")

        let dir = try TemporaryDirectory()
        let cluster = try await LocalClusterInstance.start(options: LocalClusterOptions(directory: dir.url), components: [])
        var pvc = PersistentVolumeClaim(name: "good", namespace: "default")
        pvc.spec.accessModes = ["ReadWriteOnce"]
        pvc.spec.resources.requests = ["storage": "1Gi"]
        _ = try await cluster.makeClient().create(pvc)
        let dumpDir = try TemporaryDirectory()
        try cluster.writeStoreDump(to: dumpDir.url.appendingPathComponent("c.json"))
        await cluster.stop()
        let ok = try await runCommand("python3", [Self.script, dumpDir.url.path])
        #expect(ok.ok, "\(ok.stdout)\(ok.stderr)")
    }
}
