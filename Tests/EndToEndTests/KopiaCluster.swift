import Foundation
import FerryControllers
import Kube
import LocalCluster
import Testing

/// A local control plane (API server with the CrossNamespaceVolumeDataSource gate on, CSI driver, PV binder,
/// external-provisioner, scheduler, kubelet — image `ferry` runs the built `ferry`) with the real `ferry controller`
/// process and its Kopia populator beside it, driven with kubectl (``E2ECluster``). Shared by one suite through
/// `@Suite(.kopiaCluster)`, reached in tests as `KopiaCluster.current`; tests use their own
/// namespaces. The populator's work namespace is `ferry-system`.
///
/// Repositories the tests write live below `/var/tmp`: the populator pod mounts an emptyDir at `/tmp`, and the
/// local kubelet's containers see the host's other paths (no image root filesystem), as a hostPath would.
final class KopiaCluster: E2ECluster, @unchecked Sendable {
    @TaskLocal static var current: KopiaCluster?

    /// Scratch space for repositories and trees, removed with the cluster.
    let scratch: URL

    init() async throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        let scratch = URL(fileURLWithPath: "/var/tmp/ferry-e2e-kopia-\(tag)")
        self.scratch = scratch
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let options = LocalClusterOptions(directory: URL(fileURLWithPath: "/tmp/ferry-e2e-kopia-\(tag)"),
                                          crossNamespaceVolumeDataSource: true, images: ["ferry": E2EPaths.ferryBinary])
        do {
            try await super.init(options: options, logLabel: "e2e-kopia", timeout: "5s", controllerArguments: [
                "--populator-image", "ferry:e2e", "--populator-progress-interval", "0.5",
                "--kopia-index-refresh-interval", "1s", "--feature-gates", "CrossNamespaceVolumeDataSource=true",
            ])
        } catch {
            try? FileManager.default.removeItem(at: scratch)
            throw error
        }
    }

    override func stop() async {
        await super.stop()
        try? FileManager.default.removeItem(at: scratch)
    }

    // MARK: The user's objects, as YAML

    func namespaces(_ names: String...) async throws {
        try await apply(names.map { "apiVersion: v1\nkind: Namespace\nmetadata: {name: \($0)}" }.joined(separator: "\n---\n"))
    }

    /// VolSync's `kopia-config` Secret.
    func repositorySecret(_ namespace: String, _ keys: [String: String], name: String = "kopia-config") async throws {
        let data = keys.sorted { $0.key < $1.key }.map { "  \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
        try await apply("apiVersion: v1\nkind: Secret\nmetadata: {name: \(name), namespace: \(namespace)}\nstringData:\n\(data)")
    }

    /// A KopiaSnapshot whose spec is `repository: kopia-config` plus `spec` (YAML flow mapping entries).
    func kopiaSnapshot(_ namespace: String, _ name: String, _ spec: String) async throws {
        try await apply("""
            apiVersion: ferry.io/v1alpha1
            kind: KopiaSnapshot
            metadata: {name: \(name), namespace: \(namespace)}
            spec: {repository: kopia-config, \(spec)}
            """)
    }

    func claim(_ namespace: String, _ name: String, source: String, sourceNamespace: String? = nil, size: String = "1Gi") async throws {
        let ns = sourceNamespace.map { ", namespace: \($0)" } ?? ""
        try await apply("""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: \(name), namespace: \(namespace)}
            spec:
              storageClassName: local
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: \(size)}}
              dataSourceRef: {apiGroup: ferry.io, kind: KopiaSnapshot, name: \(source)\(ns)}
            """)
    }

    func grant(in owner: String, from requester: String) async throws {
        try await apply("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: \(requester)-may-restore, namespace: \(owner)}
            spec:
              from: [{group: "", kind: PersistentVolumeClaim, namespace: \(requester)}]
              to: [{group: ferry.io, kind: KopiaSnapshot}]
            """)
    }

    // MARK: Reading back

    func pvc(_ namespace: String, _ name: String) async throws -> PersistentVolumeClaim {
        try await client.get(PersistentVolumeClaim.self, name: name, namespace: namespace)
    }

    func kopiaSnapshotStatus(_ namespace: String, _ name: String) async throws -> KopiaSnapshot {
        try await client.get(KopiaSnapshot.self, name: name, namespace: namespace)
    }

    /// Waits for Bound; on timeout the claim's events, the populator objects and the controller log's tail are in
    /// the failure.
    @discardableResult
    func waitBound(_ namespace: String, _ name: String, timeout: Duration = .seconds(60)) async throws -> PersistentVolumeClaim {
        let ok = await poll(timeout) { try await self.pvc(namespace, name).status.phase == "Bound" }
        if !ok {
            let events = ((try? await self.events(namespace, name)) ?? []).map { "\($0.reason ?? ""): \($0.message ?? "")" }
            var objects = ""
            for p in (try? await client.list(Pod.self, namespace: nil).items) ?? [] where p.metadata.labels[PopulatingNames.ownerUIDLabel] != nil {
                objects += " | pod \(p.namespace ?? "")/\(p.name) \(p.status.phase ?? "?")"
            }
            Issue.record(Comment(rawValue: "\(namespace)/\(name) not Bound: \(events.joined(separator: " | "))\(objects) | controller: \(controller.output.suffix(1500))"))
        }
        return try await pvc(namespace, name)
    }

    /// The directory holding a bound claim's volume.
    func volumeDirectory(_ claim: PersistentVolumeClaim) async throws -> URL {
        let pv = try await client.get(PersistentVolume.self, name: claim.spec.volumeName ?? "")
        return directory.appendingPathComponent("volumes/\(pv.spec.csi?.volumeHandle ?? "")")
    }

    /// Namespaces holding a Secret with any of `keys` (the whole API store).
    func namespacesHoldingSecretKeys(_ keys: Set<String>) async throws -> Set<String> {
        let secrets = try await client.list(Secret.self, namespace: nil).items
        return Set(secrets.filter { s in !keys.isDisjoint(with: Set(s.decodedData.keys).union(s.stringData.keys)) }.compactMap(\.namespace))
    }

    /// Ferry's temporary objects (pods, Secrets, PVCs labelled `ferry.io/populate-for`) for the claim with `uid`.
    func temporaryObjects(forUID uid: String) async throws -> [String] {
        let selector = "\(PopulatingNames.ownerUIDLabel)=\(uid)"
        let pods = try await client.list(Pod.self, namespace: nil, options: ListOptions(labelSelector: selector)).items.map { "pod/\($0.name)" }
        let secrets = try await client.list(Secret.self, namespace: nil, options: ListOptions(labelSelector: selector)).items.map { "secret/\($0.name)" }
        let claims = try await client.list(PersistentVolumeClaim.self, namespace: nil, options: ListOptions(labelSelector: selector)).items.map { "pvc/\($0.name)" }
        return pods + secrets + claims
    }

    // MARK: Repositories written by `ferry`

    /// Runs the built `ferry` with `environment` (KOPIA_*); returns (status, stdout+stderr).
    @discardableResult
    static func ferry(_ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        try FerryProcess.run(arguments, environment: environment)
    }
}

extension Trait where Self == ClusterSuiteTrait<KopiaCluster> {
    /// One ``KopiaCluster`` for the suite.
    static var kopiaCluster: Self {
        .init(start: { try await KopiaCluster() }, stop: { await $0.stop() }) { c, run in
            try await KopiaCluster.$current.withValue(c) { try await run() }
        }
    }
}
