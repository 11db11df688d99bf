import Foundation
import Kube
import LocalCluster
import Testing

/// A local control plane (API server and every default component: CSI driver `local.csi.ferry.io` with fault
/// hooks, PV binder, external-provisioner, snapshot controller, scheduler, kubelet) with the real `ferry controller`
/// process beside it, driven with kubectl like a user would (``E2ECluster``). The API server's
/// CrossNamespaceVolumeDataSource gate is off (a managed cluster): Ferry's DataSourceLinks are the way across
/// namespaces.
///
/// Shared by one suite through `@Suite(.controllerCluster)`, reached in tests as `ControllerCluster.current`.
final class ControllerCluster: E2ECluster, @unchecked Sendable {
    @TaskLocal static var current: ControllerCluster?

    let faults: CSIFaults

    /// Starts the cluster, installs Ferry's CRDs with kubectl, and starts `ferry controller` unless `startController`
    /// is false (crash tests start their own).
    init(startController: Bool = true, extraControllerArguments: [String] = []) async throws {
        let faults = CSIFaults()
        self.faults = faults
        let directory = URL(fileURLWithPath: "/tmp/ferry-e2e-ctl-\(UInt32.random(in: 0...UInt32.max))")
        try await super.init(options: LocalClusterOptions(directory: directory, csiFaults: faults),
                             startController: startController, controllerArguments: extraControllerArguments)
    }

    // MARK: The driver's view

    /// The driver's volumes (its own records in `DIR/csi/volumes/`), by CreateVolume name.
    func backendVolumes() -> [(name: String, id: String)] {
        let dir = directory.appendingPathComponent("csi/volumes")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.compactMap { file in
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(file).path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let name = object["name"] as? String, let id = object["id"] as? String else { return nil }
            return (name, id)
        }
    }

    // MARK: Fixtures

    /// `production/webapp-data` filled by a pod, and the ready snapshot `production/webapp-nightly` of it.
    func seedProduction() async throws {
        try await apply("""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: webapp-data, namespace: production}
            spec:
              storageClassName: local
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 64Mi}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: fill, namespace: production}
            spec:
              restartPolicy: Never
              containers:
              - name: fill
                image: busybox
                command: [sh, -c, "mkdir -p /data/db && printf 'orders: 1042\\n' > /data/db/stats.txt && head -c 65536 /dev/urandom > /data/blob.bin"]
                volumeMounts: [{name: data, mountPath: /data}]
              volumes:
              - name: data
                persistentVolumeClaim: {claimName: webapp-data}
            """)
        try await kubectl(["wait", "-n", "production", "--for=jsonpath={.status.phase}=Succeeded", "pod/fill", "--timeout=60s"])
        try await apply("""
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshot
            metadata: {name: webapp-nightly, namespace: production}
            spec: {volumeSnapshotClassName: local, source: {persistentVolumeClaimName: webapp-data}}
            """)
        try await kubectl(["wait", "-n", "production", "--for=jsonpath={.status.readyToUse}=true",
                           "volumesnapshot/webapp-nightly", "--timeout=60s"])
    }

    /// The data directory of a bound claim's backend volume.
    func dataOf(_ namespace: String, _ claim: String) async throws -> URL? {
        let pvc = try await client.get(PersistentVolumeClaim.self, name: claim, namespace: namespace)
        guard let pvName = pvc.spec.volumeName, !pvName.isEmpty else { return nil }
        let pv = try await client.get(PersistentVolume.self, name: pvName)
        return pv.spec.csi?.volumeHandle.map { volumeDirectory($0) }
    }

    /// A namespace, a DataSourceLink in it to `source` in production, and a claim naming the link.
    func linkedClaim(_ namespace: String, claim: String = "restored", link: String = "to-prod",
                     kind: String = "VolumeSnapshot", source: String = "webapp-nightly", size: String = "64Mi",
                     storageClass: String = "local", extraSpec: String = "") async throws {
        let group = kind == "VolumeSnapshot" ? "snapshot.storage.k8s.io" : "\"\""
        try await apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: \(namespace)}
            ---
            apiVersion: ferry.io/v1alpha1
            kind: DataSourceLink
            metadata: {name: \(link), namespace: \(namespace)}
            spec:
              sourceRef: {apiGroup: \(group), kind: \(kind), namespace: production, name: \(source)}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: \(claim), namespace: \(namespace)}
            spec:
              storageClassName: \(storageClass)
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: \(size)}}
              dataSourceRef: {apiGroup: ferry.io, kind: DataSourceLink, name: \(link)}
            \(extraSpec)
            """)
    }

    /// A ReferenceGrant in production allowing claims of `from` to use `kind` objects (optionally one `name`).
    func grant(_ name: String, from: String, kind: String = "VolumeSnapshot", toName: String? = nil,
               fromKind: String = "PersistentVolumeClaim") async throws {
        let group = kind == "VolumeSnapshot" ? "snapshot.storage.k8s.io" : "\"\""
        let nameField = toName.map { ", name: \($0)" } ?? ""
        try await apply("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: \(name), namespace: production}
            spec:
              from: [{group: "", kind: \(fromKind), namespace: \(from)}]
              to: [{group: \(group), kind: \(kind)\(nameField)}]
            """)
    }
}

/// The `ferry controller` harness's names, as the suites of this target knew them.
typealias ControllerClusterTrait = ClusterSuiteTrait<ControllerCluster>

extension Trait where Self == ClusterSuiteTrait<ControllerCluster> {
    /// One ``ControllerCluster`` (with production's claim and snapshot) for the suite.
    static var controllerCluster: Self { controllerCluster(startController: true) }
    /// The cluster without a `ferry controller`: the suite starts (and kills) its own.
    static var controllerClusterWithoutController: Self { controllerCluster(startController: false) }

    static func controllerCluster(startController: Bool) -> Self {
        .init(start: { try await ControllerCluster(startController: startController) }, stop: { await $0.stop() }) { c, run in
            try await c.seedProduction()
            try await ControllerCluster.$current.withValue(c) { try await run() }
        }
    }
}
