public import CSI
public import Kube

/// The VolumeSnapshot → VolumeSnapshotContent → handle checks of external-provisioner's `getSnapshotSource`
/// (kubernetes.md §1.5), in its order and with its texts, over objects the caller has read with live GETs. Pure.
public struct SnapshotSourceCheck: Sendable {
    /// The annotation on a VolumeSnapshotContent that allows a volumeMode change.
    public static let allowVolumeModeChange = "snapshot.storage.kubernetes.io/allow-volume-mode-change"

    /// The StorageClass provisioner (the driver's name).
    public var provisioner: String
    /// Whether the driver reports `CREATE_DELETE_SNAPSHOT`.
    public var driverSupportsSnapshots: Bool
    /// `--prevent-volume-mode-conversion` (default true upstream).
    public var preventVolumeModeConversion: Bool
    /// Finalizers that mean "a restore from this snapshot already started" (so deletion does not stop it).
    public var protectionFinalizers: Set<String>

    public init(provisioner: String, driverSupportsSnapshots: Bool, preventVolumeModeConversion: Bool = true,
                protectionFinalizers: Set<String> = [SourceProtection.finalizer]) {
        self.provisioner = provisioner
        self.driverSupportsSnapshots = driverSupportsSnapshots
        self.preventVolumeModeConversion = preventVolumeModeConversion
        self.protectionFinalizers = protectionFinalizers
    }

    /// The first step: whether to read the content, and which. Returns the content name to GET, or the problem.
    /// - Parameters:
    ///   - snapshot: the live VolumeSnapshot, nil when the API said NotFound.
    public func contentName(reference: SourceReference, snapshot: VolumeSnapshot?) -> Result<String, SourceProblem> {
        let name = reference.name
        guard driverSupportsSnapshots else {
            return .failure(wrap(.unsupported, name,
                                 "CSI driver does not support snapshot restore: the driver does not report the CREATE_DELETE_SNAPSHOT controller capability"))
        }
        guard let snapshot else {
            return .failure(wrap(.notFound, name,
                                 "error getting snapshot \(name) from api server: volumesnapshots.snapshot.storage.k8s.io \"\(name)\" not found"))
        }
        if snapshot.metadata.deletionTimestamp != nil,
           protectionFinalizers.isDisjoint(with: snapshot.metadata.finalizers) {
            return .failure(wrap(.notFound, name, "snapshot \(name) is being deleted"))
        }
        guard let content = snapshot.status.boundVolumeSnapshotContentName, !content.isEmpty else {
            return .failure(wrap(.notReady, name, "snapshot \(name) not bound"))
        }
        return .success(content)
    }

    /// The remaining checks once the content has been read.
    /// - Parameters:
    ///   - content: the live VolumeSnapshotContent, nil when NotFound.
    ///   - requestedBytes: the claim's storage request.
    ///   - claimVolumeMode: the claim's `spec.volumeMode` (nil = unset).
    public func resolve(reference: SourceReference, snapshot: VolumeSnapshot, content: VolumeSnapshotContent?,
                        claimNamespace: String, claimName: String, requestedBytes: Int64?,
                        claimVolumeMode: String?) -> Result<ResolvedSource, SourceProblem> {
        let name = reference.name
        let ns = snapshot.metadata.namespace ?? reference.namespace
        let contentName = snapshot.status.boundVolumeSnapshotContentName ?? ""
        guard let content else {
            return .failure(wrap(.notReady, name,
                                 "error getting snapshotcontent \(contentName) for snapshot \(ns)/\(name) from api server: volumesnapshotcontents.snapshot.storage.k8s.io \"\(contentName)\" not found"))
        }
        let ref = content.spec.volumeSnapshotRef
        guard ref.uid == snapshot.metadata.uid, ref.namespace == ns, ref.name == snapshot.name else {
            return .failure(wrap(.incompatible, name,
                                 "snapshotcontent \(contentName) for snapshot \(ns)/\(name) is bound to a different snapshot"))
        }
        guard content.spec.driver == provisioner else {
            return .failure(wrap(.incompatible, name,
                                 "snapshotcontent \(contentName) for snapshot \(ns)/\(name) is not handled by CSI driver of StorageClass \(provisioner)"))
        }
        guard snapshot.status.readyToUse == true else {
            return .failure(wrap(.notReady, name, "snapshot \(name) is not Ready"))
        }
        guard let handle = content.status.snapshotHandle, !handle.isEmpty else {
            return .failure(wrap(.notReady, name, "snapshot handle \(contentName) is not available"))
        }
        var size: Int64?
        if let restore = snapshot.status.restoreSize {
            guard let restoreBytes = Quantity.bytes(restore) else {
                return .failure(wrap(.incompatible, name, "snapshot \(name) has an invalid restoreSize \(restore)"))
            }
            size = restoreBytes
            guard let requested = requestedBytes else {
                return .failure(wrap(.incompatible, name,
                                     "error getting capacity for PVC \(claimName) when creating snapshot \(name)"))
            }
            if requested < restoreBytes {
                return .failure(wrap(.incompatible, name,
                                     "requested volume size \(requested) is less than the size \(restoreBytes) for the source snapshot \(name)"))
            }
        }
        if preventVolumeModeConversion, let source = content.spec.sourceVolumeMode, let mode = claimVolumeMode,
           source != mode {
            let prefix = "requested volume \(claimNamespace)/\(claimName) modifies the mode of the source volume but does not have permission to do so."
            let annotations = content.metadata.annotations
            if annotations.isEmpty {
                return .failure(wrap(.incompatible, name,
                                     "\(prefix) \(Self.allowVolumeModeChange) annotation is not present on snapshotcontent \(contentName)"))
            }
            guard let value = annotations[Self.allowVolumeModeChange] else {
                return .failure(wrap(.incompatible, name,
                                     "\(prefix) \(Self.allowVolumeModeChange) annotation is not present on snapshotcontent \(contentName)"))
            }
            guard let allowed = Self.parseBool(value) else {
                return .failure(wrap(.incompatible, name,
                                     "failed to convert \(Self.allowVolumeModeChange) annotation value to boolean with error: invalid syntax \"\(value)\""))
            }
            if !allowed {
                return .failure(wrap(.incompatible, name,
                                     "\(prefix) \(Self.allowVolumeModeChange) is set to false on snapshotcontent \(contentName)"))
            }
        }
        return .success(ResolvedSource(
            reference: reference, uid: snapshot.metadata.uid ?? "",
            contentSource: VolumeContentSource(type: .snapshot(.init(snapshotId: handle))), handle: handle,
            holderName: contentName, sizeBytes: size))
    }

    /// Go's `strconv.ParseBool`.
    static func parseBool(_ s: String) -> Bool? {
        switch s {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    func wrap(_ kind: SourceProblem.Kind, _ name: String, _ text: String) -> SourceProblem {
        SourceProblem(kind, "error getting handle for DataSource Type VolumeSnapshot by Name \(name): \(text)")
    }
}
