import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// The PV binder and the external-provisioner against the local CSI driver, through the API only.
struct ProvisioningTests {
    static let components: [any ClusterComponent] = [CSIDriverComponent(), PVBinder(), ExternalProvisioner()]

    @Test func claimIsProvisionedBoundAndItsVolumeDeletedWithIt() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            let created = try await f.client.create(ClusterFixture.claim("data"))
            let uid = try #require(created.metadata.uid)
            #expect(try await eventually {
                try await f.client.get(PersistentVolumeClaim.self, name: "data").status.phase == "Bound"
            })
            let claim = try await f.client.get(PersistentVolumeClaim.self, name: "data")
            #expect(claim.spec.volumeName == "pvc-\(uid)")
            #expect(claim.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes")
            #expect(claim.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == LocalCSIDriver.driverName)
            #expect(claim.status.capacity["storage"] == "1Mi")
            let pv = try await f.client.get(PersistentVolume.self, name: "pvc-\(uid)")
            #expect(pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == LocalCSIDriver.driverName)
            #expect(pv.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == nil)
            #expect(pv.status.phase == "Bound")
            #expect(pv.spec.claimRef?.uid == uid)
            let handle = try #require(pv.spec.csi?.volumeHandle)
            let directory = f.directory.appendingPathComponent("volumes/\(handle)")
            #expect(FileManager.default.fileExists(atPath: directory.path))
            let reasons = try await f.events(for: "data").compactMap(\.reason)
            #expect(reasons.contains("Provisioning") && reasons.contains("ProvisioningSucceeded"))

            try await f.client.delete(PersistentVolumeClaim.self, name: "data")
            #expect(try await eventually {
                (try? await f.client.get(PersistentVolume.self, name: "pvc-\(uid)")) == nil
            })
            #expect(!FileManager.default.fileExists(atPath: directory.path))
        }
    }

    @Test func unknownKindIsLeftToAPopulator() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            var pvc = ClusterFixture.claim("populated")
            var ref = TypedObjectReference()
            ref.apiGroup = "ferry.io"
            ref.kind = "KopiaSnapshot"
            ref.name = "webapp"
            pvc.spec.dataSourceRef = ref
            _ = try await f.client.create(pvc)
            #expect(try await eventually {
                try await f.events(for: "populated").contains {
                    $0.reason == "Provisioning" && $0.message == "Assuming an external populator will provision the volume"
                }
            })
            let claim = try await f.client.get(PersistentVolumeClaim.self, name: "populated")
            #expect(claim.status.phase != "Bound")
            #expect(try await f.client.list(PersistentVolume.self, namespace: nil).items.isEmpty)
        }
    }

    @Test func crossNamespaceSourceFailsWhileTheGateIsOff() async throws {
        try await ClusterFixture.with(Self.components) { f in
            try await f.storageClass()
            var pvc = ClusterFixture.claim("xns")
            var ref = TypedObjectReference()
            ref.apiGroup = "snapshot.storage.k8s.io"
            ref.kind = "VolumeSnapshot"
            ref.name = "snap"
            ref.namespace = "kube-system"
            pvc.spec.dataSourceRef = ref
            _ = try await f.client.create(pvc)
            #expect(try await eventually {
                try await f.events(for: "xns").contains {
                    $0.reason == "ProvisioningFailed"
                        && $0.message == "dataSourceRef namespace specified but the CrossNamespaceVolumeDataSource feature is disabled"
                }
            })
        }
    }

    @Test func crossNamespaceSourceNeedsAGrantWhileTheGateIsOn() async throws {
        try await ClusterFixture.with(Self.components, crossNamespaceVolumeDataSource: true) { f in
            try await f.storageClass()
            var pvc = ClusterFixture.claim("xns")
            var ref = TypedObjectReference()
            ref.apiGroup = "snapshot.storage.k8s.io"
            ref.kind = "VolumeSnapshot"
            ref.name = "snap"
            ref.namespace = "kube-system"
            pvc.spec.dataSourceRef = ref
            _ = try await f.client.create(pvc)
            #expect(try await eventually {
                try await f.events(for: "xns").contains {
                    $0.reason == "ProvisioningFailed"
                        && $0.message == "accessing kube-system/snap of VolumeSnapshot dataSource from default/xns isn't allowed"
                }
            })
        }
    }

    @Test func staticVolumeBindsToAMatchingClaim() async throws {
        try await ClusterFixture.with([PVBinder()]) { f in
            var pv = PersistentVolume(name: "static-1")
            pv.spec.capacity = ["storage": "2Gi"]
            pv.spec.accessModes = ["ReadWriteOnce"]
            pv.spec.storageClassName = "manual"
            pv.spec.persistentVolumeReclaimPolicy = "Retain"
            var spec = pv.object["spec"]?.object ?? [:]
            spec["hostPath"] = ["path": "/tmp/static-1"]  // a PV needs a volume source (the API server requires one)
            pv.object["spec"] = .object(spec)
            _ = try await f.client.create(pv)
            #expect(try await eventually {
                try await f.client.get(PersistentVolume.self, name: "static-1").status.phase == "Available"
            })
            _ = try await f.client.create(ClusterFixture.claim("small", storageClass: "manual", size: "1Gi"))
            #expect(try await eventually {
                try await f.client.get(PersistentVolumeClaim.self, name: "small").status.phase == "Bound"
            })
            let bound = try await f.client.get(PersistentVolume.self, name: "static-1")
            #expect(bound.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes")
            #expect(try await f.client.get(PersistentVolumeClaim.self, name: "small").status.capacity["storage"] == "2Gi")
            try await f.client.delete(PersistentVolumeClaim.self, name: "small")
            #expect(try await eventually {
                try await f.client.get(PersistentVolume.self, name: "static-1").status.phase == "Released"
            })
        }
    }
}
