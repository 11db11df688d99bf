import Foundation
import Kube
import Logging

/// The PV controller's binder (kube-controller-manager `pkg/controller/volume/persistentvolume`, kubernetes.md
/// §9.2), acting only through the API.
///
/// Reproduces: `syncClaim` routing on `pv.kubernetes.io/bind-completed`; unbound claims bind to a PV pre-bound to
/// them (claimRef namespace/name with an empty or equal UID) or to the smallest matching Available PV (class,
/// size, access modes, volumeMode, selector; never under WaitForFirstConsumer); a claim without a class gets the
/// default class; WaitForFirstConsumer claims without `volume.kubernetes.io/selected-node` wait with the Normal
/// `WaitForFirstConsumer` event; claims of an external provisioner get both `storage-provisioner` annotations and
/// the `ExternalProvisioning` event on every sync until bound; the four `bind()` writes in upstream order (PV
/// claimRef + `bound-by-controller` when the PV did not already point at the claim, PV phase Bound, claim
/// `volumeName` + annotations, claim phase Bound with access modes and capacity); bound claims go Lost
/// (`ClaimLost`, `ClaimMisbound`); volumes go Available, Bound, Released (claim gone or bound elsewhere) or Failed
/// (unknown reclaim policy); Retain keeps a Released PV, Delete leaves it to its external deleter (the
/// external-provisioner) when `pv.kubernetes.io/provisioned-by` names one; user pre-binds keep their claimRef
/// (only the UID is cleared) while controller binds are undone. Event texts are Appendix A's. Resync every 15 s.
///
/// Knowingly differs: no in-tree deleter or recycler (Delete without provisioned-by and Recycle give a Warning
/// and leave the PV Released); no `WaitForPodScheduled` event (pods are not watched); no VolumeAttributesClass;
/// no volume expansion; status and spec writes are PUTs of the informer's copy, so a racing writer costs a
/// retry instead of upstream's cache bookkeeping.
public struct PVBinder: ClusterComponent {
    public var name: String { "pv-binder" }
    /// `PVClaimBinderSyncPeriod`.
    public var resyncPeriod: Duration

    public init(resyncPeriod: Duration = .seconds(15)) { self.resyncPeriod = resyncPeriod }

    enum Key: Hashable, Sendable { case claim(ObjectKey), volume(String) }

    public func run(context: ComponentContext) async throws {
        let client = context.client
        let logger = context.logger
        let claims = Informer<PersistentVolumeClaim>(client: client, namespace: nil, logger: logger)
        let volumes = Informer<PersistentVolume>(client: client, namespace: nil, logger: logger)
        let classes = Informer<StorageClass>(client: client, namespace: nil, logger: logger)
        let loop = ControllerLoop<Key>(name: name, logger: logger)
        claims.addHandler { event in
            switch event {
            case .added(let c), .updated(_, let c): loop.enqueue(.claim(c.key))
            case .deleted(let c):
                if let v = c.spec.volumeName, !v.isEmpty { loop.enqueue(.volume(v)) }
                for pv in volumes.list() where pv.spec.claimRef?.name == c.name && pv.spec.claimRef?.namespace == c.namespace {
                    loop.enqueue(.volume(pv.name))
                }
            }
        }
        volumes.addHandler { event in
            switch event {
            case .added(let v), .updated(_, let v):
                loop.enqueue(.volume(v.name))
                if let ref = v.spec.claimRef, let n = ref.name { loop.enqueue(.claim(ObjectKey(namespace: ref.namespace, name: n))) }
            case .deleted(let v):
                if let ref = v.spec.claimRef, let n = ref.name { loop.enqueue(.claim(ObjectKey(namespace: ref.namespace, name: n))) }
            }
        }
        classes.addHandler { _ in
            for c in claims.list() where c.status.phase != "Bound" { loop.enqueue(.claim(c.key)) }
        }
        let binder = Binder(client: client, claims: claims, volumes: volumes, classes: classes,
                            events: EventRecorder(client: client, component: "persistentvolume-controller", logger: logger))
        await loop.run(informers: [claims.loopEntry, volumes.loopEntry, classes.loopEntry], resync: resyncPeriod,
                       allKeys: { claims.list().map { .claim($0.key) } + volumes.list().map { .volume($0.name) } },
                       sync: { key in
                           switch key {
                           case .claim(let k): await binder.syncClaim(k)
                           case .volume(let n): await binder.syncVolume(n)
                           }
                       })
    }
}

/// The binder's sync functions (one key at a time; see ``PVBinder``).
struct Binder: Sendable {
    let client: KubeClient
    let claims: Informer<PersistentVolumeClaim>
    let volumes: Informer<PersistentVolume>
    let classes: Informer<StorageClass>
    let events: EventRecorder

    // MARK: Claims

    func syncClaim(_ key: ObjectKey) async -> SyncOutcome {
        guard let claim = claims.get(key) else { return .done }
        do {
            if claim.metadata.annotations[Names.bindCompleted] == nil { return try await syncUnbound(claim) }
            return try await syncBound(claim)
        } catch {
            return .retry("\(error)")
        }
    }

    private func syncUnbound(_ claim: PersistentVolumeClaim) async throws -> SyncOutcome {
        let className = claim.spec.storageClassName ?? ""
        let storageClass = className.isEmpty ? nil : classes.get(name: className, namespace: nil)
        let delayBinding = storageClass?.volumeBindingMode == "WaitForFirstConsumer"
        guard let volumeName = claim.spec.volumeName, !volumeName.isEmpty else {
            if let volume = VolumeMatching.findMatchingVolume(claim, in: volumes.list(), delayBinding: delayBinding) {
                try await bind(volume, claim)
                return .done
            }
            if claim.spec.storageClassName == nil, let fallback = defaultClass() {
                var updated = claim
                updated.spec.storageClassName = fallback.name
                _ = try await client.update(updated)
                return .done
            }
            try await ensurePending(claim)
            if delayBinding, (claim.metadata.annotations[Names.selectedNode] ?? "").isEmpty {
                await events.emit(claim, type: .normal, reason: "WaitForFirstConsumer",
                                    message: "waiting for first consumer to be created before binding")
                return .done
            }
            if !className.isEmpty { return try await provision(claim, className: className, storageClass: storageClass) }
            await events.emit(claim, type: .normal, reason: "FailedBinding",
                                message: "no persistent volumes available for this claim and no storage class is set")
            return .done
        }
        // The user pre-bound the claim to a PV.
        guard let volume = try await volume(named: volumeName) else {
            try await ensurePending(claim)
            return .done
        }
        if volume.spec.claimRef == nil {
            if let reason = VolumeMatching.mismatch(volume, claim) {
                try await ensurePending(claim)
                await events.emit(claim, type: .warning, reason: "VolumeMismatch",
                                    message: "Cannot bind to requested volume \"\(volumeName)\": \(reason)")
                return .done
            }
            try await bind(volume, claim)
        } else if VolumeMatching.isPreBound(volume, to: claim) {
            try await bind(volume, claim)
        } else {
            try await ensurePending(claim)
            await events.emit(claim, type: .warning, reason: "FailedBinding",
                                message: "volume \"\(volumeName)\" already bound to a different claim.")
        }
        return .done
    }

    private func provision(_ claim: PersistentVolumeClaim, className: String,
                           storageClass: StorageClass?) async throws -> SyncOutcome {
        guard let storageClass else {
            await events.emit(claim, type: .warning, reason: "ProvisioningFailed",
                                message: "storageclass.storage.k8s.io \"\(className)\" not found")
            return .done
        }
        let provisioner = storageClass.provisioner ?? ""
        let annotations = claim.metadata.annotations
        if !provisioner.hasPrefix("kubernetes.io/"),
           annotations[Names.storageProvisioner] != provisioner || annotations[Names.betaStorageProvisioner] != provisioner {
            var updated = claim
            updated.metadata.annotations[Names.storageProvisioner] = provisioner
            updated.metadata.annotations[Names.betaStorageProvisioner] = provisioner
            _ = try await client.update(updated)
        }
        await events.emit(claim, type: .normal, reason: "ExternalProvisioning",
                            message: "Waiting for a volume to be created either by the external provisioner '\(provisioner)' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
        return .done
    }

    private func syncBound(_ claim: PersistentVolumeClaim) async throws -> SyncOutcome {
        guard let volumeName = claim.spec.volumeName, !volumeName.isEmpty else {
            try await markLost(claim, reason: "ClaimLost",
                               message: "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!")
            return .done
        }
        guard let volume = try await volume(named: volumeName) else {
            try await markLost(claim, reason: "ClaimLost",
                               message: "Bound claim has lost its PersistentVolume. Data on the volume is lost!")
            return .done
        }
        if volume.spec.claimRef == nil || volume.spec.claimRef?.uid == claim.metadata.uid {
            try await bind(volume, claim)
        } else {
            try await markLost(claim, reason: "ClaimMisbound",
                               message: "Two claims are bound to the same volume, this one is bound incorrectly")
        }
        return .done
    }

    /// `bind()`: the four writes, each skipped when already in place.
    private func bind(_ volume: PersistentVolume, _ claim: PersistentVolumeClaim) async throws {
        var pv = volume
        if !VolumeMatching.isBound(pv, to: claim) {
            let wasPointing = VolumeMatching.isPreBound(pv, to: claim)
            pv.spec.claimRef = ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim",
                                               namespace: claim.metadata.namespace, name: claim.name,
                                               uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion)
            if !wasPointing { pv.metadata.annotations[Names.boundByController] = "yes" }
            pv = try await client.update(pv)
        }
        if pv.status.phase != "Bound" {
            pv.status.phase = "Bound"
            pv = try await client.updateStatus(pv)
        }
        var pvc = claim
        if pvc.spec.volumeName != pv.name || pvc.metadata.annotations[Names.bindCompleted] != "yes" {
            if (pvc.spec.volumeName ?? "").isEmpty { pvc.metadata.annotations[Names.boundByController] = "yes" }
            pvc.spec.volumeName = pv.name
            pvc.metadata.annotations[Names.bindCompleted] = "yes"
            pvc = try await client.update(pvc)
        }
        if pvc.status.phase != "Bound" || pvc.status.accessModes != pv.spec.accessModes {
            if pvc.status.phase != "Bound" { pvc.status.capacity = pv.spec.capacity }
            pvc.status.phase = "Bound"
            pvc.status.accessModes = pv.spec.accessModes
            _ = try await client.updateStatus(pvc)
        }
    }

    private func ensurePending(_ claim: PersistentVolumeClaim) async throws {
        guard claim.status.phase != "Pending" else { return }
        var pvc = claim
        pvc.status.phase = "Pending"
        _ = try await client.updateStatus(pvc)
    }

    private func markLost(_ claim: PersistentVolumeClaim, reason: String, message: String) async throws {
        guard claim.status.phase != "Lost" else { return }
        var pvc = claim
        pvc.status.phase = "Lost"
        _ = try await client.updateStatus(pvc)
        await events.emit(claim, type: .warning, reason: reason, message: message)
    }

    private func defaultClass() -> StorageClass? {
        classes.list().filter { $0.metadata.annotations[Names.defaultClass] == "true" }
            .max { ($0.metadata.creationTimestamp ?? "", $0.name) < ($1.metadata.creationTimestamp ?? "", $1.name) }
    }

    /// The PV from the cache, else a live GET (a PV the informer has not seen yet).
    private func volume(named name: String) async throws -> PersistentVolume? {
        if let v = volumes.get(name: name, namespace: nil) { return v }
        do { return try await client.get(PersistentVolume.self, name: name) } catch where error.code == .notFound {
            return nil
        }
    }

    // MARK: Volumes

    func syncVolume(_ name: String) async -> SyncOutcome {
        guard let volume = volumes.get(name: name, namespace: nil) else { return .done }
        do { return try await syncVolume(volume) } catch { return .retry("\(error)") }
    }

    private func syncVolume(_ volume: PersistentVolume) async throws -> SyncOutcome {
        guard let ref = volume.spec.claimRef, let claimName = ref.name else {
            try await setPhase(volume, "Available")
            return .done
        }
        let claimKey = ObjectKey(namespace: ref.namespace, name: claimName)
        guard let uid = ref.uid, !uid.isEmpty else {
            // Pre-bound by the user, waiting for its claim.
            try await setPhase(volume, "Available")
            return .done
        }
        var claim = claims.get(claimKey)
        if claim == nil || claim?.metadata.uid != uid, volume.status.phase != "Released", volume.status.phase != "Failed" {
            claim = try? await client.get(PersistentVolumeClaim.self, name: claimName, namespace: ref.namespace)
        }
        guard let claim, claim.metadata.uid == uid else {
            if volume.status.phase != "Failed" { try await setPhase(volume, "Released") }
            return try await reclaim(volume)
        }
        let bound = claim.spec.volumeName ?? ""
        if bound.isEmpty {
            if VolumeMatching.volumeMode(volume.spec.volumeMode) != VolumeMatching.volumeMode(claim.spec.volumeMode) {
                await events.emit(volume, type: .warning, reason: "VolumeMismatch",
                                    message: "Cannot bind PersistentVolume to requested PersistentVolumeClaim \"\(claim.name)\" due to incompatible volumeMode.")
                await events.emit(claim, type: .warning, reason: "VolumeMismatch",
                                    message: "Cannot bind PersistentVolume \"\(volume.name)\" to requested PersistentVolumeClaim due to incompatible volumeMode.")
            }
            return .done  // the claim's own sync binds it (its key was queued by the same event)
        }
        if bound == volume.name {
            try await setPhase(volume, "Bound")
            return .done
        }
        // The claim is bound to another volume.
        if volume.metadata.annotations[Names.provisionedBy] != nil, volume.spec.persistentVolumeReclaimPolicy == "Delete" {
            try await setPhase(volume, "Released")
            return try await reclaim(volume)
        }
        var pv = volume
        if pv.metadata.annotations[Names.boundByController] != nil {
            pv.spec.claimRef = nil
            pv.metadata.annotations[Names.boundByController] = nil
            pv = try await client.update(pv)
            try await setPhase(pv, "Available")
        } else {
            var ref = ref
            ref.uid = nil
            pv.spec.claimRef = ref
            _ = try await client.update(pv)
        }
        return .done
    }

    private func reclaim(_ volume: PersistentVolume) async throws -> SyncOutcome {
        switch volume.spec.persistentVolumeReclaimPolicy ?? "Retain" {
        case "Retain":
            return .done
        case "Delete":
            if let by = volume.metadata.annotations[Names.provisionedBy], !by.hasPrefix("kubernetes.io/") { return .done }
            if volume.spec.csi != nil { return .done }
            await events.emit(volume, type: .warning, reason: "VolumeFailedDelete",
                                message: "the local cluster has no in-tree deleter for volume \"\(volume.name)\"")
            return .done
        case "Recycle":
            await events.emit(volume, type: .warning, reason: "VolumeFailedRecycle",
                                message: "the local cluster does not recycle volumes")
            return .done
        default:
            try await setPhase(volume, "Failed")
            await events.emit(volume, type: .warning, reason: "VolumeUnknownReclaimPolicy",
                                message: "Volume has unrecognized PersistentVolumeReclaimPolicy")
            return .done
        }
    }

    private func setPhase(_ volume: PersistentVolume, _ phase: String) async throws {
        guard volume.status.phase != phase else { return }
        var pv = volume
        pv.status.phase = phase
        _ = try await client.updateStatus(pv)
    }
}
