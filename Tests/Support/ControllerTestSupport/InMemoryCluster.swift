public import FerryControllers
public import Kube
import Synchronization

/// An in-memory API for controller tests: ``KubeVerbs`` with the API's semantics that reconcilers depend on
/// (resourceVersion conflicts, uid, finalizers holding a deletion, NotFound/AlreadyExists), the ``ClusterCache``
/// view of the same store (always current), and an ``EventSink`` that keeps events.
public final class InMemoryCluster: KubeVerbs, ClusterCache, EventSink, Sendable {
    public struct RecordedEvent: Sendable, Hashable {
        public var object: String
        public var type: String
        public var reason: String
        public var message: String
    }
    struct State {
        var objects: [String: [ObjectKey: JSONObject]] = [:]
        var rv = 0
        var uid = 0
        var events: [RecordedEvent] = []
        var writes: [String] = []
        var failNext: [String: KubeError] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    static func typeKey(_ t: ResourceType) -> String { "\(t.group)/\(t.plural)" }

    // MARK: Test controls

    /// Stores an object as is (uid and resourceVersion filled in when missing).
    @discardableResult
    public func put<T: KubeResource>(_ object: T) -> T {
        state.withLock { s in
            var o = object
            s.rv += 1
            if o.metadata.uid == nil { s.uid += 1; o.metadata.uid = "uid-\(s.uid)" }
            o.metadata.resourceVersion = String(s.rv)
            s.objects[Self.typeKey(T.resourceType), default: [:]][o.key] = o.object
            return o
        }
    }
    public func remove<T: KubeResource>(_ type: T.Type, _ key: ObjectKey) {
        _ = state.withLock { $0.objects[Self.typeKey(T.resourceType)]?.removeValue(forKey: key) }
    }
    public func object<T: KubeResource>(_ type: T.Type, _ key: ObjectKey) -> T? {
        state.withLock { $0.objects[Self.typeKey(T.resourceType)]?[key].map { T(object: $0) } }
    }
    public func all<T: KubeResource>(_ type: T.Type) -> [T] {
        state.withLock { ($0.objects[Self.typeKey(T.resourceType)] ?? [:]).values.map { T(object: $0) } }
    }
    public var events: [RecordedEvent] { state.withLock { $0.events } }
    /// Verbs and kinds of every write, in order (`create persistentvolumes`).
    public var writes: [String] { state.withLock { $0.writes } }
    /// The next call of `verb` on the plural (`"update volumesnapshots"`) fails with this error.
    public func failNext(_ verbAndPlural: String, with error: KubeError) { state.withLock { $0.failNext[verbAndPlural] = error } }

    private func injected(_ verb: String, _ t: ResourceType) throws(KubeError) {
        let e = state.withLock { $0.failNext.removeValue(forKey: "\(verb) \(t.plural)") }
        if let e { throw e }
    }

    // MARK: KubeVerbs

    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) -> T {
        try injected("get", T.resourceType)
        let key = ObjectKey(namespace: T.resourceType.namespaced ? namespace : nil, name: name)
        guard let o = object(T.self, key) else {
            throw KubeError(.notFound, "\(T.resourceType.qualifiedName) \"\(name)\" not found", status: 404, reason: "NotFound")
        }
        return o
    }

    public func create<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        try injected("create", T.resourceType)
        return try state.withLock { s throws(KubeError) -> T in
            let t = Self.typeKey(T.resourceType)
            guard s.objects[t]?[object.key] == nil else {
                throw KubeError(.alreadyExists, "\(T.resourceType.qualifiedName) \"\(object.name)\" already exists", status: 409, reason: "AlreadyExists")
            }
            var o = object
            s.rv += 1
            s.uid += 1
            o.metadata.uid = "uid-\(s.uid)"
            o.metadata.resourceVersion = String(s.rv)
            s.objects[t, default: [:]][o.key] = o.object
            s.writes.append("create \(T.resourceType.plural)")
            return o
        }
    }

    public func update<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        try await write(object, status: false)
    }

    public func updateStatus<T: KubeResource>(_ object: T) async throws(KubeError) -> T {
        try await write(object, status: true)
    }

    private func write<T: KubeResource>(_ object: T, status: Bool) async throws(KubeError) -> T {
        try injected(status ? "updateStatus" : "update", T.resourceType)
        return try state.withLock { s throws(KubeError) -> T in
            let t = Self.typeKey(T.resourceType)
            guard let current = s.objects[t]?[object.key].map({ T(object: $0) }) else {
                throw KubeError(.notFound, "\(T.resourceType.qualifiedName) \"\(object.name)\" not found", status: 404, reason: "NotFound")
            }
            guard object.metadata.resourceVersion == current.metadata.resourceVersion else {
                throw KubeError(.conflict, "Operation cannot be fulfilled on \(T.resourceType.qualifiedName) \"\(object.name)\": the object has been modified; please apply your changes to the latest version and try again",
                                status: 409, reason: "Conflict")
            }
            var o = current
            if status { o.object["status"] = object.object["status"] } else {
                o = object
                if T.resourceType.hasStatusSubresource { o.object["status"] = current.object["status"] }
                o.metadata.uid = current.metadata.uid
                o.metadata.deletionTimestamp = current.metadata.deletionTimestamp
            }
            s.rv += 1
            o.metadata.resourceVersion = String(s.rv)
            s.writes.append("\(status ? "updateStatus" : "update") \(T.resourceType.plural)")
            if o.metadata.deletionTimestamp != nil, o.metadata.finalizers.isEmpty {
                s.objects[t]?[o.key] = nil
            } else {
                s.objects[t]?[o.key] = o.object
            }
            return o
        }
    }

    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, mergePatch: JSONValue)
        async throws(KubeError) -> T {
        var current = try await get(type, name: name, namespace: namespace)
        current.object = JSONValue.object(current.object).applyingMergePatch(mergePatch).object ?? current.object
        return try await update(current)
    }

    public func delete<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) {
        try injected("delete", T.resourceType)
        try state.withLock { s throws(KubeError) in
            let t = Self.typeKey(T.resourceType)
            let key = ObjectKey(namespace: T.resourceType.namespaced ? namespace : nil, name: name)
            guard var o = s.objects[t]?[key].map({ T(object: $0) }) else {
                throw KubeError(.notFound, "\(T.resourceType.qualifiedName) \"\(name)\" not found", status: 404, reason: "NotFound")
            }
            s.rv += 1
            s.writes.append("delete \(T.resourceType.plural)")
            if o.metadata.finalizers.isEmpty { s.objects[t]?[key] = nil; return }
            o.metadata.deletionTimestamp = "2026-01-01T00:00:00Z"
            o.metadata.resourceVersion = String(s.rv)
            s.objects[t]?[key] = o.object
        }
    }

    // MARK: EventSink

    public func record(_ object: ObjectReference, type: EventType, reason: String, message: String) async {
        state.withLock {
            $0.events.append(RecordedEvent(object: "\(object.namespace ?? "")/\(object.name ?? "")", type: type.rawValue,
                                           reason: reason, message: message))
        }
    }

    // MARK: ClusterCache

    public func claim(_ key: ObjectKey) -> PersistentVolumeClaim? { object(PersistentVolumeClaim.self, key) }
    public func storageClass(named name: String) -> StorageClass? { object(StorageClass.self, ObjectKey(namespace: nil, name: name)) }
    public func link(_ key: ObjectKey) -> DataSourceLink? { object(DataSourceLink.self, key) }
    public func snapshot(_ key: ObjectKey) -> VolumeSnapshot? { object(VolumeSnapshot.self, key) }
    public func grants(in namespace: String) -> [GrantRule] {
        all(ReferenceGrant.self).filter { $0.namespace == namespace }.map(GrantRule.init)
            + all(ReferenceGrantV1.self).filter { $0.namespace == namespace }.map(GrantRule.init)
    }
    public func claims(referencing source: SourceReference) -> [PersistentVolumeClaim] {
        all(PersistentVolumeClaim.self).filter { ClaimReconciler.source(of: $0, cache: self) == source }
    }
    public func dependents(ofSourceNamespace namespace: String) -> (claims: [ObjectKey], links: [ObjectKey]) {
        let claims = all(PersistentVolumeClaim.self).filter {
            SourceProtection.isDependent($0) && ClaimReconciler.source(of: $0, cache: self)?.namespace == namespace
        }
        let links = all(DataSourceLink.self).filter { LinkTarget.reference($0)?.namespace == namespace }
        return (claims.map(\.key), links.map(\.key))
    }
    public func claims(usingLink key: ObjectKey) -> [ObjectKey] {
        all(PersistentVolumeClaim.self).filter { CacheIndex.link($0) == key }.map(\.key)
    }
    public func linkKeys(referencing source: SourceReference) -> [ObjectKey] {
        all(DataSourceLink.self).filter { LinkTarget.reference($0) == source }.map(\.key)
    }
    public func protectedSources() -> [SourceReference] {
        all(VolumeSnapshot.self).filter { $0.metadata.finalizers.contains(SourceProtection.finalizer) }.map {
            SourceReference(group: SourceReference.volumeSnapshotGroup, kind: "VolumeSnapshot", namespace: $0.namespace ?? "", name: $0.name)
        } + all(PersistentVolumeClaim.self).filter { $0.metadata.finalizers.contains(SourceProtection.finalizer) }.map {
            SourceReference(group: "", kind: "PersistentVolumeClaim", namespace: $0.namespace ?? "", name: $0.name)
        }
    }
    /// The stored CSINodes and Nodes (an empty view when there are none, as a cluster without them).
    public func nodeTopology(driver: String) -> NodeTopologyView? {
        NodeTopologyView(driver: driver, csiNodes: all(CSINode.self), nodes: all(Node.self))
    }
}
