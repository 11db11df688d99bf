import FerryControllers
import Kube

/// Object builders for the controller tests (names follow ARCHITECTURE.md §1: production → staging).
enum Build {
    static let driver = "ferry.test.csi"

    static func claim(_ name: String = "claim", ns: String = "staging", uid: String = "u-1", size: String = "1Gi",
                      sc: String = "fast", modes: [String] = ["ReadWriteOnce"], volumeMode: String? = nil,
                      ref: TypedObjectReference? = nil) -> PersistentVolumeClaim {
        var c = PersistentVolumeClaim(name: name, namespace: ns)
        c.metadata.uid = uid
        c.spec.storageClassName = sc
        c.spec.accessModes = modes
        c.spec.resources.requests = ["storage": size]
        c.spec.volumeMode = volumeMode
        c.spec.dataSourceRef = ref
        return c
    }

    static func ref(group: String?, kind: String, name: String, ns: String? = nil) -> TypedObjectReference {
        var r = TypedObjectReference()
        r.apiGroup = group
        r.kind = kind
        r.name = name
        r.namespace = ns
        return r
    }

    static func storageClass(_ name: String = "fast", provisioner: String = driver, parameters: [String: String] = [:],
                             reclaim: String? = nil, mountOptions: [String] = []) -> StorageClass {
        var sc = StorageClass(name: name)
        sc.provisioner = provisioner
        sc.parameters = parameters
        sc.reclaimPolicy = reclaim
        sc.mountOptions = mountOptions
        sc.volumeBindingMode = "Immediate"
        return sc
    }

    static func snapshot(_ name: String = "snap", ns: String = "prod", uid: String = "s-1", content: String? = "snapcontent-1",
                         ready: Bool? = true, restoreSize: String? = "1Gi", deleting: Bool = false,
                         finalizers: [String] = []) -> VolumeSnapshot {
        var s = VolumeSnapshot(name: name, namespace: ns)
        s.metadata.uid = uid
        s.status.boundVolumeSnapshotContentName = content
        s.status.readyToUse = ready
        s.status.restoreSize = restoreSize
        if deleting { s.metadata.deletionTimestamp = "2026-01-01T00:00:00Z" }
        s.metadata.finalizers = finalizers
        return s
    }

    static func content(_ name: String = "snapcontent-1", snapshot: String = "snap", ns: String = "prod", uid: String = "s-1",
                        driver: String = driver, handle: String? = "snap-handle-1", sourceMode: String? = nil,
                        annotations: [String: String] = [:]) -> VolumeSnapshotContent {
        var c = VolumeSnapshotContent(name: name)
        c.spec.driver = driver
        c.spec.volumeSnapshotRef = ObjectReference(kind: "VolumeSnapshot", namespace: ns, name: snapshot, uid: uid)
        c.spec.sourceVolumeMode = sourceMode
        c.status.snapshotHandle = handle
        c.metadata.annotations = annotations
        return c
    }

    static func boundClaim(_ name: String = "data", ns: String = "prod", uid: String = "p-1", size: String = "1Gi",
                           volume: String = "pv-data") -> PersistentVolumeClaim {
        var c = claim(name, ns: ns, uid: uid, size: size)
        c.spec.volumeName = volume
        c.status.phase = "Bound"
        return c
    }

    static func volume(_ name: String = "pv-data", claim: PersistentVolumeClaim, driver: String = driver,
                       handle: String = "vol-7", mode: String? = nil) -> PersistentVolume {
        var pv = PersistentVolume(name: name)
        var csi = CSIPersistentVolumeSource()
        csi.driver = driver
        csi.volumeHandle = handle
        pv.spec.csi = csi
        pv.spec.volumeMode = mode
        pv.spec.claimRef = ObjectReference(kind: "PersistentVolumeClaim", namespace: claim.namespace, name: claim.name,
                                           uid: claim.metadata.uid)
        pv.status.phase = "Bound"
        return pv
    }
}
