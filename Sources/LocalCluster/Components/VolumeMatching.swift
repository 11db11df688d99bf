import Kube

/// The PV controller's matching rules (`pkg/controller/volume/persistentvolume/index.go` `findByClaim`,
/// component-helpers `pv_helpers.go` `FindMatchingVolume`, `checkVolumeSatisfyClaim`), pure functions over
/// objects so they are tested without a server. Shared by the PV binder and the scheduler.
enum VolumeMatching {
    static func requestBytes(_ claim: PersistentVolumeClaim) -> Int64 {
        claim.spec.resources.requests["storage"].flatMap(Quantity.bytes) ?? 0
    }

    static func capacityBytes(_ volume: PersistentVolume) -> Int64 {
        volume.spec.capacity["storage"].flatMap(Quantity.bytes) ?? 0
    }

    static func volumeMode(_ mode: String?) -> String { mode ?? "Filesystem" }

    /// Whether the PV's claimRef names this claim: same namespace and name, and an empty or equal UID.
    static func isPreBound(_ volume: PersistentVolume, to claim: PersistentVolumeClaim) -> Bool {
        guard let ref = volume.spec.claimRef else { return false }
        return ref.namespace == claim.metadata.namespace && ref.name == claim.name
            && ((ref.uid ?? "").isEmpty || ref.uid == claim.metadata.uid)
    }

    /// Whether the PV's claimRef names this very claim (UID included): `IsVolumeBoundToClaim`.
    static func isBound(_ volume: PersistentVolume, to claim: PersistentVolumeClaim) -> Bool {
        guard let ref = volume.spec.claimRef else { return false }
        return ref.namespace == claim.metadata.namespace && ref.name == claim.name && ref.uid == claim.metadata.uid
    }

    /// Label-selector match (`matchLabels` and `matchExpressions` with In, NotIn, Exists, DoesNotExist).
    static func selectorMatches(_ selector: JSONMap?, _ labels: [String: String]) -> Bool {
        guard let selector else { return true }
        let matchLabels: [String: String] = selector["matchLabels"] ?? [:]
        for (k, v) in matchLabels where labels[k] != v { return false }
        let expressions: [JSONMap] = selector["matchExpressions"] ?? []
        for e in expressions {
            let key: String = e["key"] ?? ""
            let values: [String] = e["values"] ?? []
            switch e["operator"] as String? {
            case "In": guard let v = labels[key], values.contains(v) else { return false }
            case "NotIn": if let v = labels[key], values.contains(v) { return false }
            case "Exists": if labels[key] == nil { return false }
            case "DoesNotExist": if labels[key] != nil { return false }
            default: return false
            }
        }
        return true
    }

    /// Why a PV cannot serve a claim the user pre-bound to it (`checkVolumeSatisfyClaim`), or nil when it can.
    static func mismatch(_ volume: PersistentVolume, _ claim: PersistentVolumeClaim) -> String? {
        if volume.metadata.deletionTimestamp != nil { return "the volume is marked for deletion \"\(volume.name)\"" }
        if capacityBytes(volume) < requestBytes(claim) { return "requested PV is too small" }
        if (volume.spec.storageClassName ?? "") != (claim.spec.storageClassName ?? "") {
            return "storageClassName does not match"
        }
        if volumeMode(volume.spec.volumeMode) != volumeMode(claim.spec.volumeMode) { return "incompatible volumeMode" }
        if !Set(claim.spec.accessModes).isSubset(of: Set(volume.spec.accessModes)) { return "incompatible accessMode" }
        return nil
    }

    /// The PV for an unbound claim (`FindMatchingVolume`): a PV pre-bound to it wins at once (class, selector and
    /// phase unchecked); otherwise — never under delayed binding — the smallest Available PV of the same class
    /// that matches the selector. PVs claimed by others, too small, of another volumeMode, or being deleted are
    /// skipped; only PVs whose access modes include all of the claim's are considered, fewest modes first.
    /// - Parameter node: under delayed binding, the scheduler's candidate node (PV node affinity must allow it).
    static func findMatchingVolume(_ claim: PersistentVolumeClaim, in volumes: [PersistentVolume], delayBinding: Bool,
                                   node: Node? = nil) -> PersistentVolume? {
        let wanted = Set(claim.spec.accessModes)
        let request = requestBytes(claim)
        let candidates = volumes
            .filter { wanted.isSubset(of: Set($0.spec.accessModes)) }
            .sorted { ($0.spec.accessModes.count, capacityBytes($0), $0.name) < ($1.spec.accessModes.count, capacityBytes($1), $1.name) }
        var best: PersistentVolume?
        for volume in candidates {
            if volume.metadata.deletionTimestamp != nil { continue }
            if volumeMode(volume.spec.volumeMode) != volumeMode(claim.spec.volumeMode) { continue }
            if capacityBytes(volume) < request { continue }
            if volume.spec.claimRef != nil {
                if isPreBound(volume, to: claim) {
                    if let node, !NodeAffinity.volume(volume, allows: node) { continue }
                    return volume
                }
                continue
            }
            if delayBinding && node == nil { continue }
            if let node, !NodeAffinity.volume(volume, allows: node) { continue }
            guard volume.status.phase == "Available" || volume.status.phase == nil else { continue }
            guard (volume.spec.storageClassName ?? "") == (claim.spec.storageClassName ?? "") else { continue }
            guard selectorMatches(claim.spec.selector, volume.metadata.labels) else { continue }
            if best == nil || capacityBytes(volume) < capacityBytes(best ?? volume) { best = volume }
        }
        return best
    }
}
