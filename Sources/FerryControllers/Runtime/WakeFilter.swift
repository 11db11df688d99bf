public import Kube

/// Which informer events wake which reconcile: controller-runtime's predicates (`GenerationChangedPredicate`,
/// `ResourceVersionChangedPredicate`) made specific to what Ferry's reconcilers read. Pure; table-tested in
/// `WakeFilterTests`.
///
/// An add or a delete always wakes. An update wakes a reconcile only when the part of the object that reconcile
/// reads — its *view* below — differs between the old and the new object. So Ferry's own writes that no
/// dependent reads stop bouncing back as work: the source-protection finalizer put on a VolumeSnapshot or
/// PersistentVolumeClaim before `CreateVolume` and taken off once the PV exists (before, every such flip re-enqueued
/// every link of the source and every claim still waiting on it — O(claims per source) reconciles per new claim),
/// a DataSourceLink's status (no claim reads it), and resourceVersion-only or managedFields-only updates.
///
/// Contract of each view: it contains every field the woken reconcile (or a decision it feeds) reads from that
/// object; a field left out must be one no reconcile woken by this event reads. A view errs on the side of waking.
public enum WakeFilter {
    /// Whether `event` changed `view` (adds and deletes always do).
    public static func matters<T: KubeResource>(_ event: InformerEvent<T>, _ view: (T) -> JSONObject) -> Bool {
        switch event {
        case .added, .deleted: return true
        case .updated(let old, let new): return view(old) != view(new)
        }
    }

    // MARK: Views

    /// A VolumeSnapshot as the claims provisioned from it and the links pointing at it read it
    /// (`SnapshotSourceCheck`, `LinkReconciler`): identity, spec, status, the deletion timestamp, and — only while it
    /// is being deleted — its finalizers (a snapshot being deleted without a protection finalizer is "being deleted").
    /// Not in the view: finalizers of a live snapshot (Ferry's own protection flips), labels, annotations,
    /// resourceVersion, managedFields.
    public static func snapshotAsSource(_ snapshot: VolumeSnapshot) -> JSONObject {
        var view = identity(snapshot.metadata)
        if snapshot.metadata.deletionTimestamp != nil { view["finalizers"] = snapshot.metadata.object["finalizers"] }
        view["spec"] = snapshot.object["spec"]
        view["status"] = snapshot.object["status"]
        return view
    }

    /// A PersistentVolumeClaim as the claims cloned from it and the links pointing at it read it
    /// (`CloneSourceCheck`, `LinkReconciler`): identity, spec (storage class, size, volume name, volume mode), the
    /// phase and the deletion timestamp. Not in the view: finalizers (Ferry's clone-source protection), labels,
    /// annotations, the rest of its status (capacity, conditions).
    public static func claimAsSource(_ claim: PersistentVolumeClaim) -> JSONObject {
        var view = identity(claim.metadata)
        view["spec"] = claim.object["spec"]
        view["phase"] = claim.status.object["phase"]
        return view
    }

    /// A claim as its own reconcile reads it: everything but resourceVersion, managedFields and Ferry's
    /// source-protection finalizer (routing, the populator and rescheduling read spec, status, labels, annotations
    /// and the populator's finalizer; the protection finalizer is put on a claim as a *clone source* and only the
    /// reconciles of the claims cloned from it read it, through a live GET).
    public static func claimItself(_ claim: PersistentVolumeClaim) -> JSONObject {
        var view = claim.object
        var metadata = claim.metadata.object
        metadata["resourceVersion"] = nil
        metadata["managedFields"] = nil
        let finalizers = claim.metadata.finalizers.filter { $0 != SourceProtection.finalizer }
        metadata["finalizers"] = finalizers.isEmpty ? nil : .array(finalizers.map { .string($0) })
        view["metadata"] = .object(metadata)
        return view
    }

    /// A DataSourceLink as the claims that name it read it (`ClaimRoute`): identity and spec. Its status — written
    /// by Ferry's link reconcile — is not read by any claim.
    public static func linkAsReference(_ link: DataSourceLink) -> JSONObject {
        var view = identity(link.metadata)
        view["spec"] = link.object["spec"]
        return view
    }

    /// A DataSourceLink as its own reconcile reads it: identity, spec and generation (`observedGeneration`) —
    /// `GenerationChangedPredicate`. A status-only update (Ferry's own status write) does not wake it; the status
    /// is recomputed whenever the link, its grant or its source changes.
    public static func linkItself(_ link: DataSourceLink) -> JSONObject {
        var view = linkAsReference(link)
        view["generation"] = link.metadata.object["generation"]
        return view
    }

    /// A ReferenceGrant (either version) as the grant rule reads it (`GrantRule`): identity and spec.
    public static func grant(_ metadata: ObjectMeta, spec: JSONValue?) -> JSONObject {
        var view = identity(metadata)
        view["spec"] = spec
        return view
    }

    /// uid (a re-created object is another object), name, namespace and the deletion timestamp.
    static func identity(_ metadata: ObjectMeta) -> JSONObject {
        var view: JSONObject = [:]
        for key in ["uid", "name", "namespace", "deletionTimestamp"] { view[key] = metadata.object[key] }
        return view
    }
}
