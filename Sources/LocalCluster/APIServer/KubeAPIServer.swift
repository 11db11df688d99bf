public import Foundation
public import Kube
public import LocalHTTPS

/// The local control plane's Kubernetes API server: real HTTPS on loopback with the API's semantics.
///
/// Implemented faithfully: resourceVersion as one monotonic decimal counter, uid/creationTimestamp/generation, watches
/// from a version with bookmarks, WatchList (`sendInitialEvents`) and 410 for compacted versions, 409 on stale
/// updates and preconditions (upstream texts), 404, label and field selectors (unsupported field labels are rejected
/// as upstream does), pagination with `limit`/`continue`, JSON merge, strategic merge (built-in kinds) and JSON patch,
/// server-side apply with per-field ownership and conflicts, `generateName`, the status subresource, finalizers and
/// `deletionTimestamp`, dry-run, bearer-token and client-certificate authentication (`system:masters` may do
/// anything), per-resource 403 rules, SelfSubjectAccessReview, NamespaceLifecycle, discovery (aggregated v2 and
/// legacy), OpenAPI v3 for server-side field validation, custom resources served while their CRD is installed (with
/// structural-schema validation and pruning), the built-in validation and strategies of `KubeAPIServer+Admission`
/// (names, labels, PVC/PV/Pod/StorageClass, dataSource rules and the `CrossNamespaceVolumeDataSource` gate), and
/// with `behaviour: .cluster`: admission finalizers, graceful pod deletion, namespace deletion, garbage collection.
///
/// Knowingly different from kube-apiserver (tests must not rely on these):
/// - no server-side Table output (kubectl prints NAME and AGE; CRD printer columns are not used), no `/openapi/v2`
///   and no component schemas in v3 (`kubectl explain` does not work), no protobuf responses; protobuf request bodies
///   only for Namespace, Secret, ConfigMap, ServiceAccount (what typed `kubectl create` sends) and DeleteOptions;
/// - built-in kinds get the validation a volume workflow meets, not all of `pkg/apis/*/validation`; unknown fields of
///   built-in kinds are stored rather than dropped (the kubernetes-validate sweep catches them in tests);
/// - CRDs: no CEL (`x-kubernetes-validations` are kept, not evaluated), no defaults, no conversion (every served
///   version reads the same stored object), no `format` or list-type checks;
/// - `managedFields` are tracked but not exposed, so kubectl's client-side→server-side apply migration cannot happen;
///   apply treats lists as atomic; continue tokens page through the current state, not an etcd snapshot;
/// - authorization is allow-unless-denied (RBAC objects are stored, not evaluated) unless `authorizeWithRBAC`
///   (`RBACAuthorizer`: no aggregation, no bootstrap roles); no admission webhooks, no
///   aggregated API servers, HTTP/1.1 only; foreground deletion is treated as background; the GC and namespace
///   controllers poll every 100 ms and write no namespace conditions.
///
/// Thread model: every connection has its own thread (`LocalHTTPSServer`); all state is in `APIStore`, guarded by one
/// lock; a watch holds its connection's thread until the client leaves, its timeout passes or the server stops.
public final class KubeAPIServer: @unchecked Sendable {  // @unchecked: mutable state in LockedBox / APIStore
    public struct User: Sendable, Hashable {
        public var name: String
        public var groups: [String]
        public init(name: String, groups: [String] = []) { self.name = name; self.groups = groups }
    }

    /// A deny rule; nil fields match anything. Everything not denied is allowed for authenticated users.
    public struct DenyRule: Sendable {
        public var user: String?
        public var verb: String?
        public var group: String?
        public var resource: String?
        public var namespace: String?
        public init(user: String? = nil, verb: String? = nil, group: String? = nil, resource: String? = nil,
                    namespace: String? = nil) {
            self.user = user
            self.verb = verb
            self.group = group
            self.resource = resource
            self.namespace = namespace
        }
    }

    public let certificates: LocalCertificates
    let store = APIStore()
    let http = LockedBox<LocalHTTPSServer?>(nil)
    let faults = LockedBox<[APIFault]>([])
    let watchDrops = LockedBox<[String: Int]>([:])
    /// The API server's `CrossNamespaceVolumeDataSource` gate (kubernetes.md §1.1): off drops a new PVC's namespaced
    /// `dataSourceRef`.
    public let crossNamespaceVolumeDataSource: Bool
    public let behaviour: Behaviour
    /// RBAC authorization (`RBACAuthorizer`) for users outside `system:masters`; off: allow unless a deny rule says no.
    public let authorizeWithRBAC: Bool

    /// What of a real cluster's machinery around the API runs, besides validation (always on).
    public struct Behaviour: Sendable {
        /// Admission `StorageObjectInUseProtection` (pvc-/pv-protection finalizers on create), the namespace's
        /// `kubernetes` finalizer (deletion waits for the namespace controller) and graceful pod deletion (a pod with a
        /// node stays until a DELETE with grace 0, which the kubelet sends).
        public var clusterLifecycle: Bool
        /// The garbage collector and the namespace controller (`ControllerManager.swift`).
        public var controllers: Bool
        public init(clusterLifecycle: Bool, controllers: Bool) {
            self.clusterLifecycle = clusterLifecycle
            self.controllers = controllers
        }
        /// What `LocalClusterInstance` runs: everything.
        public static let cluster = Behaviour(clusterLifecycle: true, controllers: true)
        /// A bare API server (client tests): objects go at once on DELETE, nothing acts on them.
        public static let bare = Behaviour(clusterLifecycle: false, controllers: false)
    }
    let tokens = LockedBox<[String: User]>([:])
    let denyRules = LockedBox<[DenyRule]>([])
    let throttle = LockedBox<(remaining: Int, retryAfter: Int)>((0, 0))
    let requestLog = LockedBox<[String]>([])
    /// How often watches that asked for bookmarks get one.
    public let bookmarkInterval: Duration
    let stopped = LockedBox<Bool>(false)

    public var baseURL: String { http.withLock { $0?.baseURL } ?? "" }
    public var port: Int { http.withLock { $0?.port } ?? 0 }

    /// Kinds of the test suites of the `Kube` client (snapshots, grants and Ferry's own kinds); `installCRD(for:)`
    /// finds a kind's served versions here.
    public static let knownTypes: [ResourceType] = BuiltinTypes.all + [
        VolumeSnapshot.resourceType, VolumeSnapshotContent.resourceType, VolumeSnapshotClass.resourceType,
        ReferenceGrant.resourceType, ReferenceGrantV1.resourceType, KopiaSnapshot.resourceType, DataSourceLink.resourceType,
    ]
    static let builtInGroups: Set<String> = BuiltinTypes.groups

    /// Whether `t` is served without a CRD (its group is one of the built-in API groups).
    public static func isBuiltIn(_ t: ResourceType) -> Bool { builtInGroups.contains(t.group) }

    /// Starts the server on 127.0.0.1:`port` (0 picks a free port) with namespaces `default` and `kube-system` and
    /// no custom resource definitions.
    /// - Parameters:
    ///   - certificates: TLS material; nil uses the process-wide set (`LocalCertificates.shared()`).
    ///   - bookmarkInterval: how often watches that asked for bookmarks get one.
    ///   - crossNamespaceVolumeDataSource: the API server's gate (kubernetes.md §1.1).
    ///   - behaviour: `.bare` (default) or `.cluster` (admission finalizers, graceful pod deletion, GC, namespaces).
    ///   - authorizeWithRBAC: evaluate the stored RBAC objects for users outside `system:masters` (kube-apiserver's
    ///     `--authorization-mode=RBAC`); false (default) allows whatever no deny rule forbids.
    public init(certificates: LocalCertificates? = nil, port: Int = 0,
                bookmarkInterval: Duration = .milliseconds(500), crossNamespaceVolumeDataSource: Bool = false,
                behaviour: Behaviour = .bare, authorizeWithRBAC: Bool = false) throws {
        self.certificates = try certificates ?? LocalCertificates.shared()
        self.bookmarkInterval = bookmarkInterval
        self.crossNamespaceVolumeDataSource = crossNamespaceVolumeDataSource
        self.behaviour = behaviour
        self.authorizeWithRBAC = authorizeWithRBAC
        let server = try LocalHTTPSServer(certificates: self.certificates, port: port) { [weak self] req, res in
            guard let self else { return res.respond(status: 503) }
            self.handle(req, res)
        }
        http.withLock { $0 = server }
        for ns in ["default", "kube-system"] { try seed(Namespace(name: ns)) }
        if behaviour.controllers { startControllers() }
    }

    deinit { stop() }

    /// Stops serving: open watches end, connections close. Idempotent.
    public func stop() {
        stopped.withLock { $0 = true }
        store.cond.lock(); store.cond.broadcast(); store.cond.unlock()
        http.withLock { $0 }?.stop()
    }

    // MARK: Test controls

    /// Accepts `token` as `user` (bearer authentication).
    public func addToken(_ token: String, for user: User) { tokens.withLock { $0[token] = user } }
    public func removeToken(_ token: String) { tokens.withLock { _ = $0.removeValue(forKey: token) } }
    public func deny(_ rule: DenyRule) { denyRules.withLock { $0.append(rule) } }
    public func clearDenyRules() { denyRules.withLock { $0 = [] } }
    /// The next `count` API requests answer 429 with `Retry-After: retryAfter`.
    public func throttleNext(_ count: Int, retryAfter: Int) { throttle.withLock { $0 = (count, retryAfter) } }
    /// Drops watch history: older resourceVersions now answer 410 Gone.
    public func compact() { store.compact() }
    /// Breaks every open connection (watches see a transport error).
    public func dropAllConnections() { http.withLock { $0 }?.dropAllConnections() }
    /// The current resourceVersion.
    public var currentResourceVersion: String { store.cond.lock(); defer { store.cond.unlock() }; return String(store.rv) }
    /// Method and path of every request, in order.
    public var requests: [String] { requestLog.withLock { $0 } }
    /// Number of objects of a kind currently stored.
    public func count(_ type: ResourceType) -> Int {
        store.cond.lock(); defer { store.cond.unlock() }
        return store.objects[APIStore.typeKey(type)]?.count ?? 0
    }

    /// Creates an object directly (no authentication, same validation), e.g. fixtures.
    @discardableResult
    public func seed<T: KubeResource>(_ object: T) throws -> T {
        T(object: try seed(object.object, as: T.resourceType))
    }

    /// Creates an object of `type` from its JSON directly (no authentication, same validation).
    @discardableResult
    public func seed(_ object: JSONObject, as type: ResourceType) throws -> JSONObject {
        let ns = object["metadata"]?.object?["namespace"]?.string
        do {
            return try create(type, namespace: type.namespaced ? (ns ?? "default") : nil, body: object, dryRun: false,
                              manager: "seed")
        } catch { throw LocalServerError("seed failed: \(error.message)") }
    }

    /// Installs a minimal CRD (no schema: unknown fields preserved) serving every version of `t`'s group and plural
    /// listed in `knownTypes`, with `t.version` as the storage version. No-op if a CRD of that name exists.
    public func installCRD(for t: ResourceType) throws {
        var crd = CustomResourceDefinition(name: t.qualifiedName)
        crd.spec.group = t.group
        crd.spec.scope = t.namespaced ? "Namespaced" : "Cluster"
        crd.spec.names = JSONMap(object: ["kind": .string(t.kind), "plural": .string(t.plural),
                                          "singular": .string(t.kind.lowercased()), "listKind": .string(t.kind + "List")])
        let versions = Self.knownTypes.filter { $0.group == t.group && $0.plural == t.plural }.map(\.version)
        crd.spec.versions = (versions.isEmpty ? [t.version] : versions).map { v in
            JSONMap(object: ["name": .string(v), "served": true, "storage": .bool(v == t.version),
                             "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                             "subresources": t.hasStatusSubresource ? ["status": [:]] : [:]])
        }
        if (try? get(CustomResourceDefinition.resourceType, namespace: nil, name: crd.name)) == nil { try seed(crd) }
    }

    /// Removes a CRD and every object of its kind (as deleting a CRD does).
    public func uninstallCRD(named name: String) {
        store.cond.lock()
        defer { store.cond.unlock() }
        let crdKey = APIStore.typeKey(CustomResourceDefinition.resourceType)
        guard let crd = store.objects[crdKey]?.removeValue(forKey: ObjectKey(namespace: nil, name: name)) else { return }
        let spec = crd["spec"]?.object ?? [:]
        if let group = spec["group"]?.string, let plural = spec["names"]?.object?["plural"]?.string {
            store.objects["\(group)/\(plural)"] = nil
        }
    }

    /// The kind served at `/api(s)/<group>/<version>/<plural>`: a built-in kind, or a custom kind whose CRD is
    /// installed and serves `version`.
    func resolveType(group: String, version: String, plural: String) -> ResourceType? {
        if builtInGroups.contains(group) {
            return BuiltinTypes.all.first { $0.group == group && $0.version == version && $0.plural == plural }
        }
        store.cond.lock()
        let crd = store.objects[APIStore.typeKey(CustomResourceDefinition.resourceType)]?[
            ObjectKey(namespace: nil, name: "\(plural).\(group)")]
        store.cond.unlock()
        guard let crd else { return nil }
        return CRDTypes.resourceType(of: crd, version: version)
    }

    var builtInGroups: Set<String> { Self.builtInGroups }

    /// Every stored object (built-in and custom), for the kubernetes-validate sweep: `{"items": [...]}`, each with
    /// its stored apiVersion and kind.
    public func dump() -> JSONValue {
        store.cond.lock()
        defer { store.cond.unlock() }
        var items: [JSONValue] = []
        for key in store.objects.keys.sorted() {
            for (_, o) in (store.objects[key] ?? [:]).sorted(by: { $0.key < $1.key }) { items.append(.object(o)) }
        }
        return ["items": .array(items)]
    }

    /// Whether this request asked for strict field validation (`fieldValidation=Strict`, kubectl's default); set per
    /// connection thread by the router.
    var strictFieldValidation: Bool {
        Thread.current.threadDictionary["ferry.fieldValidation"] as? String == "Strict"
    }
}
