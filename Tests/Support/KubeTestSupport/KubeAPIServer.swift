public import Foundation
public import HTTPTestSupport
public import Kube

/// A Kubernetes API server for tests: real HTTPS on loopback with the API's semantics for Ferry's resources.
///
/// Implemented faithfully: resourceVersion as one monotonic counter, uid/creationTimestamp/generation, watches from a
/// version with bookmarks and 410 for compacted versions, 409 on stale updates and preconditions, 404, label and field
/// selectors (unsupported field labels are rejected as upstream does), pagination with `limit`/`continue`, JSON merge
/// patch, server-side apply with per-field ownership and conflicts, `generateName`, the status subresource, finalizers
/// and `deletionTimestamp`, dry-run, bearer-token and client-certificate authentication, per-resource 403 rules,
/// SelfSubjectAccessReview, NamespaceLifecycle (creating in a missing namespace is 404), CRD-gated custom kinds.
///
/// Known simplifications (documented so tests do not rely on them): continue tokens page through the *current*
/// state rather than an etcd snapshot; `propagationPolicy` is validated but there is no garbage collector; strategic
/// merge patch and JSON patch answer 415; apply treats lists as atomic; no admission webhooks or defaulting.
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

    public let certificates: TestCertificates
    let store = APIStore()
    let types: [ResourceType]
    private var http: TestHTTPSServer?
    let tokens = LockedBox<[String: User]>([:])
    let denyRules = LockedBox<[DenyRule]>([])
    let throttle = LockedBox<(remaining: Int, retryAfter: Int)>((0, 0))
    let requestLog = LockedBox<[String]>([])
    /// How often watches that asked for bookmarks get one.
    public let bookmarkInterval: Duration
    let stopped = LockedBox<Bool>(false)

    public var baseURL: String { http?.baseURL ?? "" }
    public var port: Int { http?.port ?? 0 }

    /// Every kind the server serves.
    public static let knownTypes: [ResourceType] = [
        PersistentVolumeClaim.resourceType, PersistentVolume.resourceType, Pod.resourceType, Secret.resourceType,
        Namespace.resourceType, CoreEvent.resourceType, StorageClass.resourceType, Event.resourceType,
        Lease.resourceType, CustomResourceDefinition.resourceType, VolumeSnapshot.resourceType,
        VolumeSnapshotContent.resourceType, VolumeSnapshotClass.resourceType, ReferenceGrant.resourceType,
        ReferenceGrantV1.resourceType, KopiaSnapshot.resourceType, DataSourceLink.resourceType, Node.resourceType,
        ConfigMap.resourceType,
    ]
    static let builtInGroups: Set<String> = ["", "storage.k8s.io", "events.k8s.io", "coordination.k8s.io",
                                             "apiextensions.k8s.io", "authorization.k8s.io"]

    /// Starts the server with namespaces `default` and `kube-system`, and (unless `installCRDs` is false) the CRDs of
    /// snapshots, ReferenceGrants and Ferry's kinds.
    public init(installCRDs: Bool = true, bookmarkInterval: Duration = .milliseconds(500)) throws {
        certificates = try TestCertificates.shared()
        types = Self.knownTypes
        self.bookmarkInterval = bookmarkInterval
        http = try TestHTTPSServer(certificates: certificates) { [weak self] req, res in
            guard let self else { return res.respond(status: 503) }
            self.handle(req, res)
        }
        for ns in ["default", "kube-system"] { try seed(Namespace(name: ns)) }
        if installCRDs { for t in types where !Self.builtInGroups.contains(t.group) { try installCRD(for: t) } }
    }

    deinit { stop() }

    public func stop() {
        stopped.withLock { $0 = true }
        store.cond.lock(); store.cond.broadcast(); store.cond.unlock()
        http?.stop()
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
    public func dropAllConnections() { http?.dropAllConnections() }
    /// The current resourceVersion.
    public var currentResourceVersion: String { store.cond.lock(); defer { store.cond.unlock() }; return String(store.rv) }
    /// Method and path of every request, in order.
    public var requests: [String] { requestLog.withLock { $0 } }
    /// Number of objects of a kind currently stored.
    public func count(_ type: ResourceType) -> Int {
        store.cond.lock(); defer { store.cond.unlock() }
        return store.objects[APIStore.typeKey(type)]?.count ?? 0
    }

    /// Creates an object directly (no auth), e.g. fixtures.
    @discardableResult
    public func seed<T: KubeResource>(_ object: T) throws -> T {
        do {
            let created = try create(T.resourceType, namespace: object.metadata.namespace, body: object.object,
                                     dryRun: false, manager: "seed")
            return T(object: created)
        } catch { throw TestServerError("seed failed: \(error.message)") }
    }

    public func installCRD(for t: ResourceType) throws {
        var crd = CustomResourceDefinition(name: t.qualifiedName)
        crd.spec.group = t.group
        crd.spec.scope = t.namespaced ? "Namespaced" : "Cluster"
        crd.spec.names = JSONMap(object: ["kind": .string(t.kind), "plural": .string(t.plural)])
        let versions = types.filter { $0.group == t.group && $0.plural == t.plural }.map(\.version)
        crd.spec.versions = versions.map { v in
            JSONMap(object: ["name": .string(v), "served": true, "storage": .bool(v == t.version),
                             "subresources": t.hasStatusSubresource ? ["status": [:]] : [:]])
        }
        if (try? get(CustomResourceDefinition.resourceType, namespace: nil, name: crd.name)) == nil { try seed(crd) }
    }

    public func uninstallCRD(named name: String) {
        store.cond.lock()
        store.objects[APIStore.typeKey(CustomResourceDefinition.resourceType)]?.removeValue(forKey: ObjectKey(namespace: nil, name: name))
        store.cond.unlock()
    }

    // MARK: Authentication and authorization

    func authenticate(_ req: TestHTTPRequest) -> User? {
        if let auth = req.header("Authorization"), auth.hasPrefix("Bearer ") {
            return tokens.withLock { $0[String(auth.dropFirst(7))] }
        }
        if let cn = req.clientCommonName { return User(name: cn, groups: req.clientOrganizations) }
        return nil
    }

    func allowed(_ user: User, verb: String, group: String, resource: String, namespace: String?) -> Bool {
        if user.groups.contains("system:masters") { return true }
        return !denyRules.withLock { rules in
            rules.contains { r in
                (r.user == nil || r.user == user.name) && (r.verb == nil || r.verb == verb)
                    && (r.group == nil || r.group == group) && (r.resource == nil || r.resource == resource)
                    && (r.namespace == nil || r.namespace == namespace)
            }
        }
    }

    func forbidden(_ user: User, verb: String, type: ResourceType, resource: String, namespace: String?, name: String?) -> APIFailure {
        let subject = name.map { "\(type.qualifiedName) \"\($0)\"" } ?? type.qualifiedName
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return APIFailure(code: 403, reason: "Forbidden",
                          message: "\(subject) is forbidden: User \"\(user.name)\" cannot \(verb) resource \"\(resource)\" in API group \"\(type.group)\" \(scope)",
                          details: ["name": .string(name ?? ""), "group": .string(type.group), "kind": .string(type.plural)])
    }

    // MARK: HTTP

    func send(_ res: TestHTTPResponder, _ status: Int, _ body: JSONValue, headers: [(String, String)] = []) {
        res.respond(status: status, headers: [("Content-Type", "application/json")] + headers, body: JSONCoding.serialize(body))
    }

    func handle(_ req: TestHTTPRequest, _ res: TestHTTPResponder) {
        requestLog.withLock { $0.append("\(req.method) \(req.path)") }
        guard let user = authenticate(req) else {
            return send(res, 401, APIFailure(code: 401, reason: "Unauthorized", message: "Unauthorized").status)
        }
        do throws(APIFailure) {
            let throttled = throttle.withLock { t -> Int? in
                guard t.remaining > 0 else { return nil }
                t.remaining -= 1
                return t.retryAfter
            }
            if let after = throttled {
                throw APIFailure(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                 details: ["retryAfterSeconds": .int(Int64(after))], headers: [("Retry-After", "\(after)")])
            }
            try route(req, res, user)
        } catch {
            send(res, error.code, error.status, headers: error.headers)
        }
    }

    struct Route {
        var type: ResourceType
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    func parse(_ path: String) throws(APIFailure) -> Route {
        let notFound = APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        var segs = path.split(separator: "/").map(String.init)
        let group: String, version: String
        if segs.first == "api", segs.count >= 2 { group = ""; version = segs[1]; segs.removeFirst(2) }
        else if segs.first == "apis", segs.count >= 3 { group = segs[1]; version = segs[2]; segs.removeFirst(3) }
        else { throw notFound }
        func find(_ plural: String) -> ResourceType? {
            types.first { $0.group == group && $0.version == version && $0.plural == plural }
        }
        var namespace: String?
        if segs.count >= 3, segs[0] == "namespaces", let t = find(segs[2]), t.namespaced {
            namespace = segs[1]
            segs.removeFirst(2)
        }
        guard let plural = segs.first, let type = find(plural), segs.count <= 3 else { throw notFound }
        if !Self.builtInGroups.contains(group) {
            // Custom kinds exist only while their CRD is installed and serves this version.
            let crd = try? get(CustomResourceDefinition.resourceType, namespace: nil, name: type.qualifiedName)
            let served = (crd?["spec"]?.object?["versions"]?.array ?? []).contains {
                $0.object?["name"]?.string == version && $0.object?["served"]?.bool == true
            }
            guard served else { throw notFound }
        }
        if type.namespaced != (namespace != nil), segs.count >= 2 { throw notFound }
        return Route(type: type, namespace: namespace, name: segs.count >= 2 ? segs[1] : nil,
                     subresource: segs.count == 3 ? segs[2] : nil)
    }

    func route(_ req: TestHTTPRequest, _ res: TestHTTPResponder, _ user: User) throws(APIFailure) {
        if req.path == "/version" {
            return send(res, 200, ["major": "1", "minor": "31", "gitVersion": "v1.31.0-ferry-test", "platform": "linux/amd64"])
        }
        if req.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", req.method == "POST" {
            return send(res, 201, try selfSubjectAccessReview(req, user))
        }
        let r = try parse(req.path)
        if let sub = r.subresource, sub != "status" || !r.type.hasStatusSubresource {
            throw APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        let isWatch = req.queryValue("watch") == "true" || req.queryValue("watch") == "1"
        let verb: String = switch (req.method, r.name) {
        case ("GET", nil): isWatch ? "watch" : "list"
        case ("GET", _): "get"
        case ("POST", nil): "create"
        case ("PUT", _?): "update"
        case ("PATCH", _?): "patch"
        case ("DELETE", _?): "delete"
        default: "unsupported"
        }
        guard verb != "unsupported" else {
            throw APIFailure(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
        }
        let resourceName = r.subresource.map { "\(r.type.plural)/\($0)" } ?? r.type.plural
        guard allowed(user, verb: verb, group: r.type.group, resource: r.type.plural, namespace: r.namespace) else {
            throw forbidden(user, verb: verb, type: r.type, resource: resourceName, namespace: r.namespace, name: r.name)
        }
        let dryRun = req.queryValue("dryRun") == "All"
        let manager = req.queryValue("fieldManager") ?? (req.header("User-Agent").map { String($0.prefix { $0 != "/" }) } ?? "unknown")
        switch verb {
        case "get": send(res, 200, .object(try converted(get(r.type, namespace: r.namespace, name: r.name ?? ""), r.type)))
        case "list": send(res, 200, try list(r.type, namespace: r.namespace, req))
        case "watch": try watch(r.type, namespace: r.namespace, req, res)
        case "create":
            let body = try parseBody(req)
            if r.type.plural == "selfsubjectaccessreviews" { return send(res, 201, try selfSubjectAccessReview(req, user)) }
            send(res, 201, .object(try converted(create(r.type, namespace: r.namespace, body: body, dryRun: dryRun, manager: manager), r.type)))
        case "update":
            let body = try parseBody(req)
            send(res, 200, .object(try converted(update(r, body: body, dryRun: dryRun, manager: manager), r.type)))
        case "patch":
            let (status, object) = try patch(r, req, dryRun: dryRun, manager: manager)
            send(res, status, .object(converted(object, r.type)))
        case "delete":
            let (status, object) = try delete(r, options: req.body.isEmpty ? [:] : try parseBody(req), dryRun: dryRun)
            send(res, status, .object(converted(object, r.type)))
        default: break
        }
    }

    func parseBody(_ req: TestHTTPRequest) throws(APIFailure) -> JSONObject {
        guard let o = (try? JSONCoding.parse(req.body))?.object else {
            throw APIFailure.badRequest("the request body is not a JSON object")
        }
        return o
    }

    /// Stored objects keep the version they were written with; answers carry the version asked for.
    func converted(_ o: JSONObject, _ t: ResourceType) -> JSONObject {
        var o = o
        o["apiVersion"] = .string(t.apiVersion)
        o["kind"] = .string(t.kind)
        return o
    }

    func selfSubjectAccessReview(_ req: TestHTTPRequest, _ user: User) throws(APIFailure) -> JSONValue {
        var body = try parseBody(req)
        let attrs = body["spec"]?.object?["resourceAttributes"]?.object ?? [:]
        let ok = allowed(user, verb: attrs["verb"]?.string ?? "", group: attrs["group"]?.string ?? "",
                         resource: attrs["resource"]?.string ?? "", namespace: attrs["namespace"]?.string)
        body["status"] = ok ? ["allowed": true] : ["allowed": false, "reason": "denied by a test-server rule"]
        body["metadata"] = ["creationTimestamp": .null]
        return .object(body)
    }
}
