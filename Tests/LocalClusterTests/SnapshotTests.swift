import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The snapshot controller with the provisioner and binder: snapshot a claim, restore a claim from it.
struct SnapshotTests {
    static let components: [any ClusterComponent] = [CSIDriverComponent(), PVBinder(), ExternalProvisioner(),
                                                     SnapshotController()]

    static func snapshotClass(_ f: ClusterFixture, policy: String = "Delete") async throws {
        var vsc = VolumeSnapshotClass(name: "local-snapshots")
        vsc.driver = LocalCSIDriver.driverName
        vsc.deletionPolicy = policy
        vsc.metadata.annotations = ["snapshot.storage.kubernetes.io/is-default-class": "true"]
        _ = try await f.client.create(vsc)
    }

    static func bound(_ f: ClusterFixture, _ name: String) async throws -> PersistentVolumeClaim {
        #expect(try await eventually {
            try await f.client.get(PersistentVolumeClaim.self, name: name).status.phase == "Bound"
        })
        return try await f.client.get(PersistentVolumeClaim.self, name: name)
    }

    static func volumeDirectory(_ f: ClusterFixture, claim: PersistentVolumeClaim) async throws -> URL {
        let pv = try await f.client.get(PersistentVolume.self, name: claim.spec.volumeName ?? "")
        return f.directory.appendingPathComponent("volumes/\(pv.spec.csi?.volumeHandle ?? "?")")
    }

    @Test func snapshotRestoresIntoANewClaimWithTheData() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            try await Self.snapshotClass(f)
            _ = try await f.client.create(ClusterFixture.claim("source"))
            let source = try await Self.bound(f, "source")
            let sourceDir = try await Self.volumeDirectory(f, claim: source)
            try Data("precious".utf8).write(to: sourceDir.appendingPathComponent("data.txt"))

            var snapshot = VolumeSnapshot(name: "snap", namespace: "default")
            snapshot.spec.source.persistentVolumeClaimName = "source"
            let created = try await f.client.create(snapshot)
            #expect(try await eventually {
                try await f.client.get(VolumeSnapshot.self, name: "snap").status.readyToUse == true
            })
            let ready = try await f.client.get(VolumeSnapshot.self, name: "snap")
            #expect(ready.spec.volumeSnapshotClassName == "local-snapshots")
            #expect(ready.status.restoreSize == "1Mi")
            #expect(ready.status.boundVolumeSnapshotContentName == "snapcontent-\(created.metadata.uid ?? "")")
            let content = try await f.client.get(VolumeSnapshotContent.self, name: ready.status.boundVolumeSnapshotContentName ?? "")
            let snapshotHandle = try #require(content.status.snapshotHandle)
            #expect(content.status.readyToUse == true)
            let reasons = try await f.events(for: "snap").compactMap(\.reason)
            #expect(reasons.contains("CreatingSnapshot") && reasons.contains("SnapshotReady"))
            // The source claim's protection finalizer is gone once the snapshot is ready.
            #expect(try await eventually {
                !(try await f.client.get(PersistentVolumeClaim.self, name: "source").metadata.finalizers
                    .contains("snapshot.storage.kubernetes.io/pvc-as-source-protection"))
            })

            var restore = ClusterFixture.claim("restored")
            var ds = TypedObjectReference()
            ds.apiGroup = "snapshot.storage.k8s.io"
            ds.kind = "VolumeSnapshot"
            ds.name = "snap"
            restore.spec.dataSource = ds
            _ = try await f.client.create(restore)
            let restored = try await Self.bound(f, "restored")
            let restoredDir = try await Self.volumeDirectory(f, claim: restored)
            #expect(restoredDir != sourceDir)
            #expect((try? String(contentsOf: restoredDir.appendingPathComponent("data.txt"), encoding: .utf8)) == "precious")
            // The provisioner's source-protection finalizer came off after the restore.
            #expect(try await eventually {
                !(try await f.client.get(VolumeSnapshot.self, name: "snap").metadata.finalizers
                    .contains("provisioner.storage.kubernetes.io/volumesnapshot-as-source-protection"))
            })

            try await f.client.delete(VolumeSnapshot.self, name: "snap")
            #expect(try await eventually {
                let snapshotGone = (try? await f.client.get(VolumeSnapshot.self, name: "snap")) == nil
                let contentGone = (try? await f.client.get(VolumeSnapshotContent.self, name: content.name)) == nil
                return snapshotGone && contentGone
            })
            #expect(!FileManager.default.fileExists(atPath: f.directory.appendingPathComponent("snapshots/\(snapshotHandle)").path))
        }
    }

    @Test func snapshotOfAnUnboundClaimWaitsWithAnEvent() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await Self.snapshotClass(f)
            _ = try await f.client.create(ClusterFixture.claim("unbound", storageClass: "missing"))
            var snapshot = VolumeSnapshot(name: "early", namespace: "default")
            snapshot.spec.source.persistentVolumeClaimName = "unbound"
            _ = try await f.client.create(snapshot)
            #expect(try await eventually {
                try await f.events(for: "early").contains {
                    $0.reason == "SnapshotContentCreationFailed"
                        && $0.message?.hasSuffix("the PVC unbound is not yet bound to a PV, will not attempt to take a snapshot") == true
                }
            })
            #expect(try await f.client.get(VolumeSnapshot.self, name: "early").status.readyToUse != true)
        }
    }

    @Test func cloneCopiesTheSourceClaimsData() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            _ = try await f.client.create(ClusterFixture.claim("origin"))
            let origin = try await Self.bound(f, "origin")
            try Data("cloned".utf8).write(to: try await Self.volumeDirectory(f, claim: origin).appendingPathComponent("f"))
            var clone = ClusterFixture.claim("copy")
            var ds = TypedObjectReference()
            ds.kind = "PersistentVolumeClaim"
            ds.name = "origin"
            clone.spec.dataSource = ds
            _ = try await f.client.create(clone)
            let copy = try await Self.bound(f, "copy")
            let dir = try await Self.volumeDirectory(f, claim: copy)
            #expect((try? String(contentsOf: dir.appendingPathComponent("f"), encoding: .utf8)) == "cloned")
            #expect(try await eventually {
                !(try await f.client.get(PersistentVolumeClaim.self, name: "origin").metadata.finalizers
                    .contains("provisioner.storage.kubernetes.io/cloning-protection"))
            })
        }
    }

    @Test func crossNamespaceSnapshotRestoresOnceAGrantAllowsIt() async throws {
        try await ClusterFixture.with(Self.components, crossNamespaceVolumeDataSource: true) { f in
            try await f.storageClass()
            try await Self.snapshotClass(f)
            _ = try await f.client.create(Namespace(name: "staging"))
            _ = try await f.client.create(ClusterFixture.claim("prod-data"))
            let source = try await Self.bound(f, "prod-data")
            try Data("prod".utf8).write(to: try await Self.volumeDirectory(f, claim: source).appendingPathComponent("db"))
            var snapshot = VolumeSnapshot(name: "nightly", namespace: "default")
            snapshot.spec.source.persistentVolumeClaimName = "prod-data"
            _ = try await f.client.create(snapshot)
            #expect(try await eventually { try await f.client.get(VolumeSnapshot.self, name: "nightly").status.readyToUse == true })

            var restore = ClusterFixture.claim("copy", "staging")
            var ref = TypedObjectReference()
            ref.apiGroup = "snapshot.storage.k8s.io"
            ref.kind = "VolumeSnapshot"
            ref.name = "nightly"
            ref.namespace = "default"
            restore.spec.dataSourceRef = ref
            _ = try await f.client.create(restore)
            #expect(try await eventually {
                try await f.events(for: "copy", namespace: "staging").contains {
                    $0.message == "accessing default/nightly of VolumeSnapshot dataSource from staging/copy isn't allowed"
                }
            })
            var grant = ReferenceGrant(name: "staging-may-restore", namespace: "default")
            var from = ReferenceGrantFrom()
            from.group = ""
            from.kind = "PersistentVolumeClaim"
            from.namespace = "staging"
            var to = ReferenceGrantTo()
            to.group = "snapshot.storage.k8s.io"
            to.kind = "VolumeSnapshot"
            grant.spec.from = [from]
            grant.spec.to = [to]
            _ = try await f.client.create(grant)
            #expect(try await eventually(.seconds(40)) {
                try await f.client.get(PersistentVolumeClaim.self, name: "copy", namespace: "staging").status.phase == "Bound"
            })
            let copy = try await f.client.get(PersistentVolumeClaim.self, name: "copy", namespace: "staging")
            let dir = try await Self.volumeDirectory(f, claim: copy)
            #expect((try? String(contentsOf: dir.appendingPathComponent("db"), encoding: .utf8)) == "prod")
        }
    }
}
