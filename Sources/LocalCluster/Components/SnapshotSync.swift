import CSI
import Foundation
import GRPCTransport
import Kube

/// The sync functions of ``SnapshotController`` (one key at a time).
struct SnapshotSync: Sendable {
    let client: KubeClient
    let controller: ControllerClient
    let driverName: String
    let timeout: Duration
    let snapshots: Informer<VolumeSnapshot>
    let contents: Informer<VolumeSnapshotContent>
    let classes: Informer<VolumeSnapshotClass>
    let claims: Informer<PersistentVolumeClaim>
    let volumes: Informer<PersistentVolume>
    let events: EventRecorder

    static let asSource = "snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"
    static let boundProtection = "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection"
    static let contentProtection = "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection"
    static let pvcProtection = "snapshot.storage.kubernetes.io/pvc-as-source-protection"
    static let beingCreated = "snapshot.storage.kubernetes.io/volumesnapshot-being-created"
    static let beingDeleted = "snapshot.storage.kubernetes.io/volumesnapshot-being-deleted"
    static let defaultClass = "snapshot.storage.kubernetes.io/is-default-class"

    // MARK: Snapshots (common controller)

    func syncSnapshot(_ key: ObjectKey) async -> SyncOutcome {
        guard let snapshot = snapshots.get(key) else { return .done }
        do {
            if snapshot.metadata.deletionTimestamp != nil { return try await deleting(snapshot) }
            if !snapshot.metadata.finalizers.contains(Self.asSource) {
                var s = snapshot
                s.metadata.finalizers.append(Self.asSource)
                _ = try await client.update(s)
                return .done
            }
            if let contentName = snapshot.status.boundVolumeSnapshotContentName, !contentName.isEmpty {
                return try await bound(snapshot, contentName: contentName)
            }
            if let contentName = snapshot.spec.source.volumeSnapshotContentName {
                return try await bindPreProvisioned(snapshot, contentName: contentName)
            }
            return try await createContent(snapshot)
        } catch {
            return .retry("\(error)")
        }
    }

    private func createContent(_ snapshot: VolumeSnapshot) async throws -> SyncOutcome {
        let namespace = snapshot.metadata.namespace ?? "default"
        guard let claimName = snapshot.spec.source.persistentVolumeClaimName else { return .done }
        guard let claim = claims.get(name: claimName, namespace: namespace), claim.status.phase == "Bound",
              let volumeName = claim.spec.volumeName, !volumeName.isEmpty,
              let volume = volumes.get(name: volumeName, namespace: nil) else {
            try await fail(snapshot, reason: "SnapshotContentCreationFailed",
                           message: "Failed to create snapshot content with error the PVC \(claimName) is not yet bound to a PV, will not attempt to take a snapshot")
            return .after(.milliseconds(500))
        }
        guard let csi = volume.spec.csi, let handle = csi.volumeHandle else {
            try await fail(snapshot, reason: "SnapshotContentCreationFailed",
                           message: "Failed to create snapshot content with error cannot find CSI PersistentVolumeSource for volume \(volumeName)")
            return .retry("not a CSI volume")
        }
        guard let className = snapshot.spec.volumeSnapshotClassName else {
            let defaults = classes.list().filter { $0.metadata.annotations[Self.defaultClass] == "true" && $0.driver == csi.driver }
            guard defaults.count == 1, let chosen = defaults.first else {
                let message = defaults.isEmpty
                    ? "Failed to set default snapshot class with error cannot find default snapshot class"
                    : "Failed to set default snapshot class with error \(defaults.count) default snapshot classes were found"
                try await fail(snapshot, reason: "SetDefaultSnapshotClassFailed", message: message)
                return .retry("no default class")
            }
            var s = snapshot
            s.spec.volumeSnapshotClassName = chosen.name
            _ = try await client.update(s)
            return .done
        }
        guard let snapshotClass = classes.get(name: className, namespace: nil) else {
            try await fail(snapshot, reason: "GetSnapshotClassFailed",
                           message: "Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io \"\(className)\" not found")
            return .retry("class missing")
        }
        if claim.metadata.deletionTimestamp == nil, !claim.metadata.finalizers.contains(Self.pvcProtection) {
            var c = claim
            c.metadata.finalizers.append(Self.pvcProtection)
            _ = try await client.update(c)
        }
        let contentName = "snapcontent-\(snapshot.metadata.uid ?? "")"
        var content = VolumeSnapshotContent(name: contentName)
        content.spec.volumeSnapshotRef = ObjectReference(
            apiVersion: VolumeSnapshot.resourceType.apiVersion, kind: "VolumeSnapshot", namespace: namespace,
            name: snapshot.name, uid: snapshot.metadata.uid, resourceVersion: snapshot.metadata.resourceVersion)
        content.spec.source = JSONMap(object: ["volumeHandle": .string(handle)])
        content.spec.volumeSnapshotClassName = className
        content.spec.deletionPolicy = snapshotClass.deletionPolicy ?? "Delete"
        content.spec.driver = snapshotClass.driver ?? csi.driver
        content.spec.sourceVolumeMode = volume.spec.volumeMode ?? "Filesystem"
        do { _ = try await client.create(content) } catch {
            if error.code != .alreadyExists { throw error }
        }
        await events.emit(snapshot, type: .normal, reason: "CreatingSnapshot",
                          message: "Waiting for a snapshot \(namespace)/\(snapshot.name) to be created by the CSI driver.")
        var s = snapshot
        s.status.boundVolumeSnapshotContentName = contentName
        s.status.readyToUse = false
        s.status.error = nil
        _ = try await client.updateStatus(s)
        return .done
    }

    private func bindPreProvisioned(_ snapshot: VolumeSnapshot, contentName: String) async throws -> SyncOutcome {
        guard let content = contents.get(name: contentName, namespace: nil) else { return .after(.seconds(1)) }
        let ref = content.spec.volumeSnapshotRef
        guard ref.name == snapshot.name, ref.namespace == snapshot.metadata.namespace else {
            try await fail(snapshot, reason: "SnapshotBindFailed",
                           message: "Snapshot failed to bind VolumeSnapshotContent, VolumeSnapshotContent \(contentName) is not bound to this snapshot")
            return .retry("content not bound to snapshot")
        }
        if ref.uid != snapshot.metadata.uid {
            var c = content
            var r = ref
            r.uid = snapshot.metadata.uid
            c.spec.volumeSnapshotRef = r
            _ = try await client.update(c)
        }
        var s = snapshot
        s.status.boundVolumeSnapshotContentName = contentName
        s.status.readyToUse = content.status.readyToUse ?? false
        // As upstream's updateSnapshotStatus: a content that is ready already gives its size and time in the same
        // write (``bound(_:contentName:)`` only fills them on the not-ready → ready transition, so without this a
        // pre-provisioned snapshot whose content was ready before the bind never got a restoreSize).
        if s.status.readyToUse == true { Self.copySizeAndTime(from: content, into: &s) }
        _ = try await client.updateStatus(s)
        return .done
    }

    static func copySizeAndTime(from content: VolumeSnapshotContent, into s: inout VolumeSnapshot) {
        if let size = content.status.restoreSize, size > 0 { s.status.restoreSize = Quantity.string(bytes: size) }
        if let ns = content.status.creationTime {
            let f = ISO8601DateFormatter()
            f.formatOptions = [.withInternetDateTime]
            s.status.creationTime = f.string(from: Date(timeIntervalSince1970: Double(ns) / 1e9))
        }
    }

    private func bound(_ snapshot: VolumeSnapshot, contentName: String) async throws -> SyncOutcome {
        guard let content = contents.get(name: contentName, namespace: nil) else { return .done }
        if content.spec.deletionPolicy == "Delete", !snapshot.metadata.finalizers.contains(Self.boundProtection) {
            var s = snapshot
            s.metadata.finalizers.append(Self.boundProtection)
            _ = try await client.update(s)
            return .done
        }
        guard content.status.readyToUse == true, snapshot.status.readyToUse != true else { return .done }
        let namespaced = "\(snapshot.metadata.namespace ?? "default")/\(snapshot.name)"
        var s = snapshot
        s.status.readyToUse = true
        s.status.error = nil
        Self.copySizeAndTime(from: content, into: &s)
        _ = try await client.updateStatus(s)
        await events.emit(snapshot, type: .normal, reason: "SnapshotCreated",
                          message: "Snapshot \(namespaced) was successfully created by the CSI driver.")
        await events.emit(snapshot, type: .normal, reason: "SnapshotReady", message: "Snapshot \(namespaced) is ready to use.")
        try await releaseClaim(of: s)
        return .done
    }

    /// Removes the claim's `pvc-as-source-protection` once no unready, live snapshot of the namespace uses it.
    private func releaseClaim(of snapshot: VolumeSnapshot) async throws {
        guard let claimName = snapshot.spec.source.persistentVolumeClaimName else { return }
        let namespace = snapshot.metadata.namespace
        let busy = snapshots.list().contains {
            $0.key != snapshot.key && $0.metadata.namespace == namespace
                && $0.spec.source.persistentVolumeClaimName == claimName && $0.status.readyToUse != true
                && $0.metadata.deletionTimestamp == nil
        }
        guard !busy, var claim = try? await client.get(PersistentVolumeClaim.self, name: claimName, namespace: namespace),
              claim.metadata.finalizers.contains(Self.pvcProtection) else { return }
        claim.metadata.finalizers.removeAll { $0 == Self.pvcProtection }
        _ = try await client.update(claim)
    }

    private func deleting(_ snapshot: VolumeSnapshot) async throws -> SyncOutcome {
        let restoring = claims.list().contains {
            $0.metadata.namespace == snapshot.metadata.namespace && $0.status.phase != "Bound"
                && $0.spec.dataSource?.kind == "VolumeSnapshot" && $0.spec.dataSource?.name == snapshot.name
        }
        if restoring {
            await events.emit(snapshot, type: .warning, reason: "SnapshotDeletePending",
                              message: "Snapshot is being used to restore a PVC")
            return .after(.seconds(1))
        }
        var finalizers = snapshot.metadata.finalizers
        if let name = snapshot.status.boundVolumeSnapshotContentName, let content = await content(named: name) {
            if content.spec.deletionPolicy == "Delete" {
                if content.metadata.deletionTimestamp == nil {
                    var c = content
                    c.metadata.annotations[Self.beingDeleted] = "yes"
                    _ = try await client.update(c)
                    try await client.delete(VolumeSnapshotContent.self, name: name)
                }
                finalizers.removeAll { $0 == Self.asSource }
                if finalizers != snapshot.metadata.finalizers {
                    var s = snapshot
                    s.metadata.finalizers = finalizers
                    _ = try await client.update(s)
                }
                return .after(.milliseconds(200))  // the bound finalizer goes once the content is gone
            }
            if content.metadata.finalizers.contains(Self.contentProtection) {
                var c = content
                c.metadata.finalizers.removeAll { $0 == Self.contentProtection }
                _ = try await client.update(c)
            }
        }
        finalizers.removeAll { $0 == Self.asSource || $0 == Self.boundProtection }
        if finalizers != snapshot.metadata.finalizers {
            var s = snapshot
            s.metadata.finalizers = finalizers
            _ = try await client.update(s)
        }
        try await releaseClaim(of: snapshot)
        return .done
    }

    private func content(named name: String) async -> VolumeSnapshotContent? {
        if let c = contents.get(name: name, namespace: nil) { return c }
        return try? await client.get(VolumeSnapshotContent.self, name: name)
    }

    private func fail(_ snapshot: VolumeSnapshot, reason: String, message: String) async throws {
        await events.emit(snapshot, type: .warning, reason: reason, message: message)
        var s = snapshot
        s.status.readyToUse = false
        s.status.error = JSONMap(object: ["message": .string(message), "time": .string(Self.now())])
        if s.status != snapshot.status { _ = try await client.updateStatus(s) }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    // MARK: Contents (csi-snapshotter sidecar)

    func syncContent(_ name: String) async -> SyncOutcome {
        guard let content = contents.get(name: name, namespace: nil), content.spec.driver == driverName else { return .done }
        do {
            if content.metadata.deletionTimestamp != nil { return try await deleteContent(content) }
            if content.spec.deletionPolicy == "Delete", !content.metadata.finalizers.contains(Self.contentProtection) {
                var c = content
                c.metadata.finalizers.append(Self.contentProtection)
                _ = try await client.update(c)
                return .done
            }
            guard let handle = content.spec.source.object["volumeHandle"]?.string,
                  content.status.readyToUse != true || content.status.snapshotHandle == nil else {
                // Ready already, or pre-provisioned (no volume handle). A content whose snapshot vanished without a
                // delete is left alone (data-loss guard).
                return .done
            }
            return try await createSnapshot(content, volumeHandle: handle)
        } catch {
            return .retry("\(error)")
        }
    }

    private func createSnapshot(_ content: VolumeSnapshotContent, volumeHandle: String) async throws -> SyncOutcome {
        var c = content
        if c.metadata.annotations[Self.beingCreated] != "yes" {
            c.metadata.annotations[Self.beingCreated] = "yes"
            c = try await client.update(c)
        }
        var parameters: [String: String] = [:]
        if let className = content.spec.volumeSnapshotClassName, let cls = classes.get(name: className, namespace: nil) {
            parameters = cls.parameters.filter { !$0.key.hasPrefix("csi.storage.k8s.io/") }
        }
        let request = CreateSnapshotRequest(sourceVolumeId: volumeHandle,
                                            name: "snapshot-\(content.spec.volumeSnapshotRef.uid ?? content.name)",
                                            parameters: parameters)
        let snapshot: Snapshot
        do {
            guard let s = try await controller.createSnapshot(request, options: CallOptions(timeout: timeout)).snapshot else {
                throw RPCError(.internal, "CreateSnapshot returned no snapshot")
            }
            snapshot = s
        } catch let error as RPCError {
            let message = "Failed to create snapshot: rpc error: code = \(Provisioner.codeName(error.code)) desc = \(error.message)"
            await events.emit(content, type: .warning, reason: "SnapshotCreationFailed", message: message)
            let transient: Set<RPCStatusCode> = [.cancelled, .deadlineExceeded, .unavailable, .resourceExhausted, .aborted]
            if !transient.contains(error.code) {
                c.metadata.annotations[Self.beingCreated] = nil
                c = try await client.update(c)
                c.status.object["error"] = .object(["message": .string(message), "time": .string(Self.now())])
                _ = try await client.updateStatus(c)
            }
            return .retry(message)
        }
        let created = snapshot.creationTime.map { $0.seconds * 1_000_000_000 + Int64($0.nanos) }
            ?? Int64(Date().timeIntervalSince1970 * 1e9)
        c.status.snapshotHandle = snapshot.snapshotId
        c.status.readyToUse = snapshot.readyToUse
        c.status.creationTime = created
        if snapshot.sizeBytes > 0 { c.status.restoreSize = snapshot.sizeBytes }
        c.status.object["error"] = nil
        c = try await client.updateStatus(c)
        c.metadata.annotations[Self.beingCreated] = nil
        _ = try await client.update(c)
        return snapshot.readyToUse ? .done : .after(.seconds(1))
    }

    private func deleteContent(_ content: VolumeSnapshotContent) async throws -> SyncOutcome {
        guard content.metadata.finalizers.contains(Self.contentProtection) else { return .done }
        if content.spec.deletionPolicy == "Delete", let handle = content.status.snapshotHandle {
            do {
                _ = try await controller.deleteSnapshot(.init(snapshotId: handle), options: CallOptions(timeout: timeout))
            } catch {
                await events.emit(content, type: .warning, reason: "SnapshotDeleteError", message: "Failed to delete snapshot: \(error)")
                return .retry("\(error)")
            }
        }
        var c = content
        c.metadata.finalizers.removeAll { $0 == Self.contentProtection }
        _ = try await client.update(c)
        if let n = content.spec.volumeSnapshotRef.name {
            // The snapshot waits for its content to go before dropping the bound finalizer.
            let key = ObjectKey(namespace: content.spec.volumeSnapshotRef.namespace, name: n)
            let live = snapshots.get(key) == nil ? try? await client.get(VolumeSnapshot.self, name: n, namespace: key.namespace) : nil
            if var s = snapshots.get(key) ?? live, s.metadata.deletionTimestamp != nil, s.metadata.finalizers.contains(Self.boundProtection) {
                s.metadata.finalizers.removeAll { $0 == Self.boundProtection || $0 == Self.asSource }
                _ = try? await client.update(s)
            }
        }
        return .done
    }
}
