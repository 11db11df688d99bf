import FerryControllers
import Kube
import Testing

/// ``WakeFilter``: which updates wake which reconcile. Every row is one edit of an object as the API server would
/// deliver it (the resourceVersion always moves), and whether the reconcile that reads that view must run again.
struct WakeFilterTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let wakes: Bool
        let edit: @Sendable (inout JSONObject) -> Void
        var testDescription: String { "\(name) → \(wakes ? "wakes" : "filtered")" }
        init(_ name: String, wakes: Bool, _ edit: @escaping @Sendable (inout JSONObject) -> Void) {
            self.name = name
            self.wakes = wakes
            self.edit = edit
        }
    }

    /// Applies `row.edit` and a new resourceVersion to `object`: the update the informer would deliver.
    static func updated<T: KubeResource>(_ object: T, _ row: Row) -> InformerEvent<T> {
        var new = object
        row.edit(&new.object)
        new.metadata.resourceVersion = String((Int(object.metadata.resourceVersion ?? "0") ?? 0) + 1)
        return .updated(old: object, new: new)
    }

    static func meta(_ o: inout JSONObject, _ edit: (inout ObjectMeta) -> Void) {
        var m = ObjectMeta(object: o["metadata"]?.object ?? [:])
        edit(&m)
        o["metadata"] = .object(m.object)
    }

    static func nested(_ o: inout JSONObject, _ path: [String], _ value: JSONValue?) {
        guard let first = path.first else { return }
        if path.count == 1 { o[first] = value; return }
        var inner = o[first]?.object ?? [:]
        nested(&inner, Array(path.dropFirst()), value)
        o[first] = .object(inner)
    }

    static let managedFields: JSONValue = [["manager": "kubectl", "operation": "Update"]]

    // MARK: VolumeSnapshot as a source

    static let snapshot: VolumeSnapshot = {
        var s = Build.snapshot(finalizers: ["snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection"])
        s.metadata.resourceVersion = "10"
        s.metadata.generation = 1
        return s
    }()

    static let snapshotRows: [Row] = [
        Row("resourceVersion only", wakes: false) { _ in },
        Row("Ferry's protection finalizer added", wakes: false) { o in
            meta(&o) { $0.finalizers.append(SourceProtection.finalizer) }
        },
        Row("another finalizer removed from a live snapshot", wakes: false) { o in meta(&o) { $0.finalizers = [] } },
        Row("managedFields", wakes: false) { o in meta(&o) { $0.object["managedFields"] = managedFields } },
        Row("a label and an annotation", wakes: false) { o in
            meta(&o) { $0.labels = ["team": "a"]; $0.annotations = ["note": "x"] }
        },
        Row("readyToUse becomes false", wakes: true) { o in nested(&o, ["status", "readyToUse"], false) },
        Row("bound to another content", wakes: true) { o in nested(&o, ["status", "boundVolumeSnapshotContentName"], "other") },
        Row("restoreSize grows", wakes: true) { o in nested(&o, ["status", "restoreSize"], "2Gi") },
        Row("an error appears in its status", wakes: true) { o in nested(&o, ["status", "error"], ["message": "boom"]) },
        Row("deletion starts", wakes: true) { o in meta(&o) { $0.deletionTimestamp = "2026-01-02T00:00:00Z" } },
        Row("re-created under the same name (new uid)", wakes: true) { o in meta(&o) { $0.uid = "s-2" } },
        Row("spec changed", wakes: true) { o in nested(&o, ["spec", "volumeSnapshotClassName"], "other-class") },
    ]

    @Test(arguments: snapshotRows)
    func aSnapshotUpdateWakesItsDependentsOnlyWhenWhatTheyReadChanged(_ row: Row) {
        #expect(WakeFilter.matters(Self.updated(Self.snapshot, row), WakeFilter.snapshotAsSource) == row.wakes)
    }

    @Test func whileASnapshotIsBeingDeletedItsFinalizersMatter() {
        var deleting = Self.snapshot
        deleting.metadata.deletionTimestamp = "2026-01-02T00:00:00Z"
        deleting.metadata.finalizers = [SourceProtection.finalizer]
        // Ferry's protection goes: "being deleted" now holds for the claims that read it.
        let row = Row("protection removed while deleting", wakes: true) { o in Self.meta(&o) { $0.finalizers = [] } }
        #expect(WakeFilter.matters(Self.updated(deleting, row), WakeFilter.snapshotAsSource))
    }

    @Test func theExactWritesOfSourceFinalizerWakeNoDependent() {
        // What SourceFinalizer.add and .remove send (read-modify-write of metadata.finalizers), as the informer sees them.
        var protected = Self.snapshot
        protected.metadata.finalizers += [SourceProtection.finalizer]
        protected.metadata.resourceVersion = "11"
        var released = protected
        released.metadata.finalizers = protected.metadata.finalizers.filter { $0 != SourceProtection.finalizer }
        released.metadata.resourceVersion = "12"
        #expect(!WakeFilter.matters(.updated(old: Self.snapshot, new: protected), WakeFilter.snapshotAsSource))
        #expect(!WakeFilter.matters(.updated(old: protected, new: released), WakeFilter.snapshotAsSource))
    }

    @Test func addsAndDeletesAlwaysWake() {
        #expect(WakeFilter.matters(.added(Self.snapshot), WakeFilter.snapshotAsSource))
        #expect(WakeFilter.matters(.deleted(Self.snapshot), WakeFilter.snapshotAsSource))
        #expect(WakeFilter.matters(.added(Self.sourceClaim), WakeFilter.claimAsSource))
        #expect(WakeFilter.matters(.deleted(Self.sourceClaim), WakeFilter.claimAsSource))
        #expect(WakeFilter.matters(.added(Self.link), WakeFilter.linkItself))
        #expect(WakeFilter.matters(.deleted(Self.link), WakeFilter.linkAsReference))
        #expect(WakeFilter.matters(.added(Self.grant), Self.grantView))
        #expect(WakeFilter.matters(.deleted(Self.grant), Self.grantView))
    }

    // MARK: PersistentVolumeClaim as a clone source, and as itself

    static let sourceClaim: PersistentVolumeClaim = {
        var c = Build.claim("data", ns: "prod", uid: "c-1")
        c.metadata.resourceVersion = "20"
        c.status.phase = "Pending"
        return c
    }()

    static let claimAsSourceRows: [Row] = [
        Row("resourceVersion only", wakes: false) { _ in },
        Row("Ferry's protection finalizer added", wakes: false) { o in meta(&o) { $0.finalizers = [SourceProtection.finalizer] } },
        Row("the binder's annotations", wakes: false) { o in
            meta(&o) { $0.annotations = ["pv.kubernetes.io/bind-completed": "yes"] }
        },
        Row("capacity reported in its status", wakes: false) { o in nested(&o, ["status", "capacity"], ["storage": "1Gi"]) },
        Row("managedFields", wakes: false) { o in meta(&o) { $0.object["managedFields"] = managedFields } },
        Row("becomes Bound", wakes: true) { o in nested(&o, ["status", "phase"], "Bound") },
        Row("gets its volumeName", wakes: true) { o in nested(&o, ["spec", "volumeName"], "pv-1") },
        Row("is resized", wakes: true) { o in nested(&o, ["spec", "resources", "requests", "storage"], "5Gi") },
        Row("deletion starts", wakes: true) { o in meta(&o) { $0.deletionTimestamp = "2026-01-02T00:00:00Z" } },
        Row("re-created (new uid)", wakes: true) { o in meta(&o) { $0.uid = "c-2" } },
    ]

    @Test(arguments: claimAsSourceRows)
    func aSourceClaimUpdateWakesTheClaimsAndLinksUsingItOnlyWhenWhatTheyReadChanged(_ row: Row) {
        #expect(WakeFilter.matters(Self.updated(Self.sourceClaim, row), WakeFilter.claimAsSource) == row.wakes)
    }

    static let claimItselfRows: [Row] = [
        Row("resourceVersion only", wakes: false) { _ in },
        Row("managedFields only", wakes: false) { o in meta(&o) { $0.object["managedFields"] = managedFields } },
        Row("a finalizer (the populator reads its own)", wakes: true) { o in meta(&o) { $0.finalizers = ["ferry.io/populate"] } },
        Row("Ferry's source-protection finalizer (it is a clone source)", wakes: false) { o in
            meta(&o) { $0.finalizers = [SourceProtection.finalizer] }
        },
        Row("the scheduler's selected-node annotation", wakes: true) { o in
            meta(&o) { $0.annotations = ["volume.kubernetes.io/selected-node": "node-1"] }
        },
        Row("a label", wakes: true) { o in meta(&o) { $0.labels = ["ferry.io/populate-for": "x"] } },
        Row("its status", wakes: true) { o in nested(&o, ["status", "phase"], "Bound") },
        Row("its spec", wakes: true) { o in nested(&o, ["spec", "volumeName"], "pv-1") },
    ]

    @Test(arguments: claimItselfRows)
    func aClaimUpdateWakesItsOwnReconcileUnlessOnlyBookkeepingChanged(_ row: Row) {
        #expect(WakeFilter.matters(Self.updated(Self.sourceClaim, row), WakeFilter.claimItself) == row.wakes)
    }

    // MARK: DataSourceLink

    static let link: DataSourceLink = {
        var l = DataSourceLink(name: "link", namespace: "staging")
        l.metadata.uid = "l-1"
        l.metadata.resourceVersion = "30"
        l.metadata.generation = 1
        l.spec.sourceRef = Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap", ns: "prod")
        return l
    }()

    /// (row, wakes the claims naming the link, wakes the link's own reconcile)
    static let linkRows: [(Row, Bool)] = [
        (Row("resourceVersion only", wakes: false) { _ in }, false),
        (Row("Ferry's status write (Granted, Ready, resolvedSource)", wakes: false) { o in
            nested(&o, ["status", "conditions"], [["type": "Granted", "status": "True"], ["type": "Ready", "status": "True"]])
            nested(&o, ["status", "observedGeneration"], 1)
        }, false),
        (Row("a label", wakes: false) { o in meta(&o) { $0.labels = ["team": "a"] } }, false),
        (Row("generation bumped without a visible spec change", wakes: false) { o in meta(&o) { $0.generation = 2 } }, true),
        (Row("sourceRef points elsewhere", wakes: true) { o in nested(&o, ["spec", "sourceRef", "name"], "other") }, true),
        (Row("deletion starts", wakes: true) { o in meta(&o) { $0.deletionTimestamp = "2026-01-02T00:00:00Z" } }, true),
    ]

    @Test(arguments: linkRows)
    func aLinkUpdateWakesItsClaimsOnlyForItsSpecAndItselfOnlyForItsSpecOrGeneration(_ row: Row, itself: Bool) {
        let event = Self.updated(Self.link, row)
        #expect(WakeFilter.matters(event, WakeFilter.linkAsReference) == row.wakes)
        #expect(WakeFilter.matters(event, WakeFilter.linkItself) == itself)
    }

    // MARK: ReferenceGrant

    static let grant: ReferenceGrant = {
        var g = ReferenceGrant(name: "allow", namespace: "prod")
        g.metadata.uid = "g-1"
        g.metadata.resourceVersion = "40"
        var f = ReferenceGrantFrom(); f.group = ""; f.kind = "PersistentVolumeClaim"; f.namespace = "staging"
        var t = ReferenceGrantTo(); t.group = "snapshot.storage.k8s.io"; t.kind = "VolumeSnapshot"
        g.spec.from = [f]; g.spec.to = [t]
        return g
    }()

    static func grantView(_ g: ReferenceGrant) -> JSONObject { WakeFilter.grant(g.metadata, spec: g.object["spec"]) }

    static let grantRows: [Row] = [
        Row("resourceVersion only", wakes: false) { _ in },
        Row("labels, annotations, managedFields", wakes: false) { o in
            meta(&o) { $0.labels = ["a": "b"]; $0.annotations = ["c": "d"]; $0.object["managedFields"] = managedFields }
        },
        Row("from another namespace", wakes: true) { o in nested(&o, ["spec", "from"], [["group": "", "kind": "PersistentVolumeClaim", "namespace": "dev"]]) },
        Row("to one named snapshot only", wakes: true) { o in
            nested(&o, ["spec", "to"], [["group": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap"]])
        },
        Row("deletion starts", wakes: true) { o in meta(&o) { $0.deletionTimestamp = "2026-01-02T00:00:00Z" } },
    ]

    @Test(arguments: grantRows)
    func aGrantUpdateReEnqueuesWaitersWhenItsRuleChanged(_ row: Row) {
        #expect(WakeFilter.matters(Self.updated(Self.grant, row), Self.grantView) == row.wakes)
    }
}
