import Foundation
import Kube
import LocalHTTPS

extension KubeAPIServer {
    // MARK: Authentication and authorization

    func authenticate(_ req: LocalHTTPRequest) -> User? {
        if let auth = req.header("Authorization"), auth.hasPrefix("Bearer ") {
            return tokens.withLock { $0[String(auth.dropFirst(7))] }
        }
        if let cn = req.clientCommonName { return User(name: cn, groups: req.clientOrganizations) }
        return nil
    }

    func allowed(_ user: User, verb: String, group: String, resource: String, subresource: String? = nil,
                 namespace: String?, name: String? = nil) -> Bool {
        if user.groups.contains("system:masters") { return true }
        let denied = denyRules.withLock { rules in
            rules.contains { r in
                (r.user == nil || r.user == user.name) && (r.verb == nil || r.verb == verb)
                    && (r.group == nil || r.group == group) && (r.resource == nil || r.resource == resource)
                    && (r.namespace == nil || r.namespace == namespace)
            }
        }
        if denied { return false }
        guard authorizeWithRBAC else { return true }
        store.cond.lock()
        func stored(_ plural: String) -> [JSONObject] {
            Array(store.objects["rbac.authorization.k8s.io/\(plural)"]?.values ?? [:].values)
        }
        let authorizer = RBACAuthorizer(clusterRoles: stored("clusterroles"), roles: stored("roles"),
                                        clusterRoleBindings: stored("clusterrolebindings"), roleBindings: stored("rolebindings"))
        store.cond.unlock()
        return authorizer.allows(.init(user: user, verb: verb, group: group, resource: resource, subresource: subresource,
                                       namespace: namespace, name: name))
    }

    func forbidden(_ user: User, verb: String, type: ResourceType, resource: String, namespace: String?, name: String?) -> APIFailure {
        let subject = name.map { "\(type.qualifiedName) \"\($0)\"" } ?? type.qualifiedName
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return APIFailure(code: 403, reason: "Forbidden",
                          message: "\(subject) is forbidden: User \"\(user.name)\" cannot \(verb) resource \"\(resource)\" in API group \"\(type.group)\" \(scope)",
                          details: ["name": .string(name ?? ""), "group": .string(type.group), "kind": .string(type.plural)])
    }

    // MARK: HTTP

    func send(_ res: LocalHTTPResponder, _ status: Int, _ body: JSONValue, headers: [(String, String)] = []) {
        res.respond(status: status, headers: [("Content-Type", "application/json")] + headers, body: JSONCoding.serialize(body))
    }

    func handle(_ req: LocalHTTPRequest, _ res: LocalHTTPResponder) {
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
            resolveType(group: group, version: version, plural: plural)
        }
        var namespace: String?
        if segs.count >= 3, segs[0] == "namespaces", let t = find(segs[2]), t.namespaced {
            namespace = segs[1]
            segs.removeFirst(2)
        }
        guard let plural = segs.first, let type = find(plural), segs.count <= 3 else { throw notFound }
        if type.namespaced != (namespace != nil), segs.count >= 2 { throw notFound }
        return Route(type: type, namespace: namespace, name: segs.count >= 2 ? segs[1] : nil,
                     subresource: segs.count == 3 ? segs[2] : nil)
    }

    func route(_ req: LocalHTTPRequest, _ res: LocalHTTPResponder, _ user: User) throws(APIFailure) {
        if req.method == "GET", try serveNonResource(req, res) { return }
        if req.path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", req.method == "POST" {
            return send(res, 201, try selfSubjectAccessReview(req, user))
        }
        let r = try parse(req.path)
        switch (r.subresource, r.type) {
        case (nil, _), ("status", _) where r.type.hasStatusSubresource, ("binding", Pod.resourceType) where req.method == "POST",
             ("finalize", Namespace.resourceType) where req.method == "PUT",
             ("token", _) where req.method == "POST" && r.type.group == "" && r.type.plural == "serviceaccounts":
            break
        default:
            throw APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        }
        Thread.current.threadDictionary["ferry.fieldValidation"] = req.queryValue("fieldValidation") ?? "Warn"
        let isWatch = req.boolQuery("watch")
        let verb: String = switch (req.method, r.name) {
        case ("GET", nil): isWatch ? "watch" : "list"
        case ("GET", _): "get"
        case ("POST", nil): "create"
        case ("POST", _?) where r.subresource == "binding" || r.subresource == "token": "create"
        case ("PUT", _?): "update"
        case ("PATCH", _?): "patch"
        case ("DELETE", _?): "delete"
        default: "unsupported"
        }
        guard verb != "unsupported" else {
            throw APIFailure(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
        }
        let resourceName = r.subresource.map { "\(r.type.plural)/\($0)" } ?? r.type.plural
        guard allowed(user, verb: verb, group: r.type.group, resource: r.type.plural, subresource: r.subresource,
                      namespace: r.namespace, name: r.name) else {
            throw forbidden(user, verb: verb, type: r.type, resource: resourceName, namespace: r.namespace, name: r.name)
        }
        if let fault = takeFault(verb: verb, resource: resourceName, namespace: r.namespace) {
            switch fault.effect {
            case .dropConnection: return res.dropConnection()
            case .status(410, _) where verb == "watch":
                res.startStream(status: 200, headers: [("Content-Type", "application/json")])
                let gone = APIFailure(code: 410, reason: "Expired", message: "too old resource version: \(req.queryValue("resourceVersion") ?? "0") (\(currentResourceVersion))")
                res.writeChunk(JSONCoding.serialize(["type": "ERROR", "object": gone.status]) + [10])
                return res.endStream()
            case .status(let code, let after):
                throw Self.failure(for: code, retryAfter: after, type: r.type, name: r.name)
            }
        }
        let dryRun = req.queryValue("dryRun") == "All"
        let manager = req.queryValue("fieldManager") ?? (req.header("User-Agent").map { String($0.prefix { $0 != "/" }) } ?? "unknown")
        switch verb {
        case "get": send(res, 200, .object(try converted(get(r.type, namespace: r.namespace, name: r.name ?? ""), r.type)))
        case "list": send(res, 200, try list(r.type, namespace: r.namespace, req))
        case "watch": try watch(r.type, namespace: r.namespace, req, res)
        case "create" where r.subresource == "binding":
            send(res, 201, try bind(r, body: try parseBody(req)))
        case "create" where r.subresource == "token":
            send(res, 201, .object(try tokenRequest(r, body: try parseBody(req))))
        case "create":
            let body = try parseBody(req)
            if r.type.plural == "selfsubjectaccessreviews" { return send(res, 201, try selfSubjectAccessReview(req, user)) }
            send(res, 201, .object(try converted(create(r.type, namespace: r.namespace, body: body, dryRun: dryRun, manager: manager), r.type)))
        case "update" where r.subresource == "finalize":
            send(res, 200, .object(try finalize(r, body: try parseBody(req))))
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

    func parseBody(_ req: LocalHTTPRequest) throws(APIFailure) -> JSONObject {
        let contentType = (req.header("Content-Type") ?? "application/json").split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if contentType == "application/vnd.kubernetes.protobuf" {
            do throws(ProtobufBody.Failure) { return try ProtobufBody.decode(req.body) } catch {
                throw APIFailure(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (\(error.message))")
            }
        }
        guard contentType == "application/json" || contentType == "*/*" || contentType.isEmpty else {
            throw APIFailure(code: 415, reason: "UnsupportedMediaType",
                             message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        }
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

    func selfSubjectAccessReview(_ req: LocalHTTPRequest, _ user: User) throws(APIFailure) -> JSONValue {
        var body = try parseBody(req)
        let attrs = body["spec"]?.object?["resourceAttributes"]?.object ?? [:]
        func attribute(_ key: String) -> String? { attrs[key]?.string.flatMap { $0.isEmpty ? nil : $0 } }
        let ok = allowed(user, verb: attribute("verb") ?? "", group: attribute("group") ?? "",
                         resource: attribute("resource") ?? "", subresource: attribute("subresource"),
                         namespace: attribute("namespace"), name: attribute("name"))
        let why = authorizeWithRBAC ? "no RBAC rule of a binding for this user allows it" : "denied by a test-server rule"
        body["status"] = ok ? ["allowed": true] : ["allowed": false, "reason": .string(why)]
        body["metadata"] = ["creationTimestamp": .null]
        return .object(body)
    }
}

extension KubeAPIServer {
    /// Discovery, `/version`, OpenAPI v3 and health endpoints; false when `req` is for a resource.
    func serveNonResource(_ req: LocalHTTPRequest, _ res: LocalHTTPResponder) throws(APIFailure) -> Bool {
        let segs = req.path.split(separator: "/").map(String.init)
        switch segs.first {
        case "version" where segs.count == 1:
            send(res, 200, ServerVersion.json)
        case "healthz", "readyz", "livez":
            res.respond(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("ok".utf8))
        case "api" where segs.count == 1, "apis" where segs.count == 1:
            let model = discoveryModel()
            if DiscoveryModel.wantsAggregated(req.header("Accept")) {
                res.respond(status: 200, headers: [("Content-Type", DiscoveryModel.aggregatedContentType)],
                            body: JSONCoding.serialize(model.aggregated(core: segs[0] == "api")))
            } else {
                send(res, 200, segs[0] == "api" ? model.apiVersions(serverAddress: "127.0.0.1:\(port)") : model.apiGroupList())
            }
        case "api" where segs.count == 2:
            guard let list = discoveryModel().apiResourceList(group: "", version: segs[1]) else { throw Self.pathNotFound }
            send(res, 200, list)
        case "apis" where segs.count == 2:
            guard let g = discoveryModel().group(segs[1]) else { throw Self.pathNotFound }
            send(res, 200, DiscoveryModel.apiGroup(g))
        case "apis" where segs.count == 3:
            guard let list = discoveryModel().apiResourceList(group: segs[1], version: segs[2]) else { throw Self.pathNotFound }
            send(res, 200, list)
        case "openapi" where segs.count >= 2 && segs[1] == "v3":
            let model = discoveryModel()
            if segs.count == 2 { send(res, 200, OpenAPI.index(model)); return true }
            let rest = Array(segs.dropFirst(2))
            let (group, version): (String, String)
            if rest.count == 2, rest[0] == "api" { (group, version) = ("", rest[1]) }
            else if rest.count == 3, rest[0] == "apis" { (group, version) = (rest[1], rest[2]) }
            else { throw Self.pathNotFound }
            guard let v = model.group(group)?.versions.first(where: { $0.version == version }) else { throw Self.pathNotFound }
            send(res, 200, OpenAPI.document(group: group, version: v))
        default:
            return false
        }
        return true
    }

    static var pathNotFound: APIFailure {
        APIFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    func discoveryModel() -> DiscoveryModel {
        store.cond.lock()
        let crds = Array((store.objects[APIStore.typeKey(CustomResourceDefinition.resourceType)] ?? [:]).values)
        store.cond.unlock()
        return DiscoveryModel(crds: crds)
    }
}

extension KubeAPIServer {
    /// POST `pods/<name>/binding` (the scheduler's bind): sets `spec.nodeName` and `PodScheduled=True`
    /// (`pod/storage/storage.go` `setPodHostAndAnnotations`).
    func bind(_ r: Route, body: JSONObject) throws(APIFailure) -> JSONValue {
        let name = r.name ?? ""
        let node = body["target"]?.object?["name"]?.string ?? ""
        guard body["target"]?.object?["kind"]?.string ?? "Node" == "Node", !node.isEmpty else {
            throw APIFailure.invalid(Pod.resourceType, name, causes: [.required("target.name")])
        }
        let key = ObjectKey(namespace: r.namespace, name: name)
        let bindingType = ResourceType(group: "", version: "v1", kind: "Binding", plural: "pods/binding", namespaced: true,
                                       hasStatusSubresource: false)
        try store.locked { () throws(APIFailure) in
            guard let old = store.objects[APIStore.typeKey(Pod.resourceType)]?[key] else { throw APIFailure.notFound(Pod.resourceType, name) }
            if old["metadata"]?.object?["deletionTimestamp"] != nil {
                throw APIFailure.conflict(bindingType, name, "pod \(name) is being deleted, cannot be assigned to a host")
            }
            if let current = old["spec"]?.object?["nodeName"]?.string, !current.isEmpty {
                throw APIFailure.conflict(bindingType, name, "pod \(name) is already assigned to node \"\(current)\"")
            }
            var new = old
            var spec = new["spec"]?.object ?? [:]
            spec["nodeName"] = .string(node)
            new["spec"] = .object(spec)
            var status = new["status"]?.object ?? [:]
            var conditions = (status["conditions"]?.array ?? []).filter { $0.object?["type"]?.string != "PodScheduled" }
            conditions.append(["type": "PodScheduled", "status": "True", "lastProbeTime": .null,
                               "lastTransitionTime": .string(Time.now())])
            status["conditions"] = .array(conditions)
            new["status"] = .object(status)
            // The binding bypasses the pod update rules (spec.nodeName is otherwise immutable).
            let rv = store.nextRV()
            var meta = new["metadata"]?.object ?? [:]
            meta["resourceVersion"] = .string(String(rv))
            new["metadata"] = .object(meta)
            store.objects[APIStore.typeKey(Pod.resourceType)]?[key] = new
            store.record("MODIFIED", Pod.resourceType, new, previous: old, rv: rv)
        }
        return ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201]
    }

    /// PUT `namespaces/<ns>/finalize`: replaces `spec.finalizers`; a namespace being deleted with none left goes.
    func finalize(_ r: Route, body: JSONObject) throws(APIFailure) -> JSONObject {
        let name = r.name ?? ""
        let wanted = body["spec"]?.object?["finalizers"]?.array ?? []
        return try store.locked { () throws(APIFailure) -> JSONObject in
            let key = ObjectKey(namespace: nil, name: name)
            guard let old = store.objects[APIStore.typeKey(Namespace.resourceType)]?[key] else {
                throw APIFailure.notFound(Namespace.resourceType, name)
            }
            var new = old
            var spec = new["spec"]?.object ?? [:]
            spec["finalizers"] = wanted.isEmpty ? nil : .array(wanted)
            new["spec"] = .object(spec)
            let rv = store.nextRV()
            var meta = new["metadata"]?.object ?? [:]
            meta["resourceVersion"] = .string(String(rv))
            new["metadata"] = .object(meta)
            if wanted.isEmpty, meta["deletionTimestamp"] != nil, (meta["finalizers"]?.array ?? []).isEmpty {
                store.objects[APIStore.typeKey(Namespace.resourceType)]?.removeValue(forKey: key)
                store.record("DELETED", Namespace.resourceType, new, previous: old, rv: rv)
            } else {
                store.objects[APIStore.typeKey(Namespace.resourceType)]?[key] = new
                store.record("MODIFIED", Namespace.resourceType, new, previous: old, rv: rv)
            }
            return new
        }
    }
}
