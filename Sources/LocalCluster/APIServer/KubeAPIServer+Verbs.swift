import Foundation
import LocalHTTPS
import Kube

extension KubeAPIServer {
    static let nameChars = Array("bcdfghjklmnpqrstvwxz2456789")

    static func validName(_ n: String) -> Bool {
        guard !n.isEmpty, n.count <= 253, let f = n.first, let l = n.last, f.isLetter || f.isNumber, l.isLetter || l.isNumber
        else { return false }
        return n.allSatisfy { ($0.isLowercase && $0.isASCII) || ($0.isNumber && $0.isASCII) || $0 == "-" || $0 == "." }
    }

    func get(_ t: ResourceType, namespace: String?, name: String) throws(APIFailure) -> JSONObject {
        try store.locked { () throws(APIFailure) -> JSONObject in
            guard let o = store.objects[APIStore.typeKey(t)]?[ObjectKey(namespace: namespace, name: name)] else {
                throw APIFailure.notFound(t, name)
            }
            return o
        }
    }

    func list(_ t: ResourceType, namespace: String?, _ req: LocalHTTPRequest) throws(APIFailure) -> JSONValue {
        let labels = try req.queryValue("labelSelector").map { s throws(APIFailure) in try LabelSelector(s) }
        let fields = try req.queryValue("fieldSelector").map { s throws(APIFailure) in try FieldSelector(s, type: t) }
        let limit = req.queryValue("limit").flatMap(Int.init) ?? 0
        var start: String?
        var listRV: Int64
        store.cond.lock()
        defer { store.cond.unlock() }
        listRV = store.rv
        if let token = req.queryValue("continue"), !token.isEmpty {
            guard let data = Data(base64Encoded: token), let o = (try? JSONCoding.parse([UInt8](data)))?.object,
                  let rv = o["rv"]?.int, let s = o["start"]?.string else {
                throw APIFailure.badRequest("continue key is not valid")
            }
            guard rv >= store.compactedRV else {
                throw APIFailure(code: 410, reason: "Expired", message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            }
            start = s
            listRV = rv
        }
        let all = (store.objects[APIStore.typeKey(t)] ?? [:])
            .filter { k, o in
                (namespace == nil || k.namespace == namespace)
                    && (labels?.matches(ObjectMeta(json: o["metadata"] ?? [:])?.labels ?? [:]) ?? true)
                    && (fields?.matches(o) ?? true)
            }
            .sorted { $0.key < $1.key }
            .filter { start == nil || $0.key.description > start ?? "" }
        let page = limit > 0 ? Array(all.prefix(limit)) : all
        var meta: JSONObject = ["resourceVersion": .string(String(listRV))]
        if limit > 0, all.count > limit, let last = page.last {
            let token = JSONCoding.serialize(["rv": .int(listRV), "start": .string(last.key.description)])
            meta["continue"] = .string(Data(token).base64EncodedString())
            meta["remainingItemCount"] = .int(Int64(all.count - limit))
        }
        let custom = !Self.builtInGroups.contains(t.group)
        let items = page.map { _, o -> JSONValue in
            var o = converted(o, t)
            if !custom { o["apiVersion"] = nil; o["kind"] = nil }  // built-in lists omit them on items
            return .object(o)
        }
        return ["kind": .string(t.kind + "List"), "apiVersion": .string(t.apiVersion), "metadata": .object(meta),
                "items": .array(items)]
    }

    func create(_ t: ResourceType, namespace: String?, body: JSONObject, dryRun: Bool, manager: String) throws(APIFailure) -> JSONObject {
        var o = body
        var meta = ObjectMeta(json: o["metadata"] ?? [:]) ?? ObjectMeta()
        if let kind = o["kind"]?.string, kind != t.kind {
            throw APIFailure.badRequest("the kind of the provided object (\(kind)) does not match the endpoint (\(t.kind))")
        }
        if t.namespaced {
            if let ns = meta.namespace, !ns.isEmpty, ns != namespace {
                throw APIFailure.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            meta.namespace = namespace
        } else {
            meta.namespace = nil
        }
        return try store.locked { () throws(APIFailure) -> JSONObject in
            if t.namespaced, let ns = namespace {
                guard let nsObject = store.objects[APIStore.typeKey(Namespace.resourceType)]?[ObjectKey(namespace: nil, name: ns)] else {
                    throw APIFailure(code: 404, reason: "NotFound", message: "namespaces \"\(ns)\" not found",
                                     details: ["name": .string(ns), "kind": "namespaces"])
                }
                if nsObject["metadata"]?.object?["deletionTimestamp"] != nil {
                    let text = "unable to create new content in namespace \(ns) because it is being terminated"
                    throw APIFailure(code: 403, reason: "Forbidden",
                                     message: "\(t.qualifiedName) \"\(meta.name ?? meta.generateName ?? "")\" is forbidden: \(text)",
                                     details: ["name": .string(meta.name ?? ""), "group": .string(t.group), "kind": .string(t.plural),
                                               "causes": [["reason": "NamespaceTerminating", "message": .string(text),
                                                           "field": "metadata.namespace"]]])
                }
            }
            var bucket = store.objects[APIStore.typeKey(t)] ?? [:]
            if meta.name?.isEmpty ?? true {
                guard let prefix = meta.generateName, !prefix.isEmpty else {
                    throw APIFailure.invalid(t, "", causes: [("metadata.name", "FieldValueRequired",
                                                               "Required value: name or generateName is required")])
                }
                var candidate = MetaValidation.generatedName(prefix)
                for _ in 0..<8 where bucket[ObjectKey(namespace: meta.namespace, name: candidate)] != nil {
                    candidate = MetaValidation.generatedName(prefix)
                }
                meta.name = candidate
            }
            let name = meta.name ?? ""
            let nameErrors = MetaValidation.nameErrors(name, type: t)
            guard nameErrors.isEmpty else { throw APIFailure.invalid(t, name, causes: nameErrors) }
            let key = ObjectKey(namespace: meta.namespace, name: name)
            if let existing = bucket[key] {
                let deleting = existing["metadata"]?.object?["deletionTimestamp"] != nil
                throw APIFailure(code: 409, reason: "AlreadyExists",
                                 message: (deleting ? "object is being deleted: " : "") + "\(t.qualifiedName) \"\(name)\" already exists",
                                 details: ["name": .string(name), "group": .string(t.group), "kind": .string(t.plural)])
            }
            meta.uid = UUID().uuidString.lowercased()
            meta.creationTimestamp = Time.now()
            meta.deletionTimestamp = nil
            meta.generation = 1
            meta.object["deletionGracePeriodSeconds"] = nil
            meta.object["managedFields"] = nil
            if t.hasStatusSubresource { o["status"] = nil }
            if t.group == "", t.plural == "namespaces" {
                o["status"] = ["phase": "Active"]
                var spec = o["spec"]?.object ?? [:]
                if spec["finalizers"] == nil, behaviour.clusterLifecycle { spec["finalizers"] = ["kubernetes"] }
                o["spec"] = .object(spec)
            }
            o["apiVersion"] = .string(t.apiVersion)
            o["kind"] = .string(t.kind)
            o["metadata"] = meta.json
            try admitCreate(t, &o)
            meta = ObjectMeta(json: o["metadata"] ?? [:]) ?? meta
            if t == CustomResourceDefinition.resourceType { o["status"] = .object(CRDTypes.establishedStatus(of: o)) }
            if dryRun { o["metadata"] = meta.json; return o }
            let rv = store.nextRV()
            meta.resourceVersion = String(rv)
            o["metadata"] = meta.json
            bucket[key] = o
            store.objects[APIStore.typeKey(t)] = bucket
            takeOwnership(t, key, manager: manager, of: leafPaths(.object(body)).keys, apply: false)
            store.record("ADDED", t, o, previous: nil, rv: rv)
            return o
        }
    }

    /// Field ownership: `manager` now owns `paths`; other managers lose them. Caller holds the lock.
    func takeOwnership(_ t: ResourceType, _ key: ObjectKey, manager: String, of paths: some Sequence<String>, apply: Bool) {
        let id = "\(APIStore.typeKey(t))/\(key)"
        var table = store.ownership[id] ?? [:]
        let owned = Set(paths.filter { !$0.hasPrefix(".metadata.resourceVersion") && !$0.hasPrefix(".apiVersion") && !$0.hasPrefix(".kind") })
        for m in table.keys where m != manager { table[m]?.subtract(owned) }
        let mkey = apply ? "apply:" + manager : "update:" + manager
        table[mkey] = apply ? owned : (table[mkey] ?? []).union(owned)
        store.ownership[id] = table
    }

    /// Replaces `old` with `candidate` under the write rules; returns the stored result. Caller holds the lock.
    func commit(_ t: ResourceType, _ key: ObjectKey, old: JSONObject, candidate: JSONObject, subresource: String?,
                dryRun: Bool, manager: String?) throws(APIFailure) -> JSONObject {
        let oldMeta = ObjectMeta(json: old["metadata"] ?? [:]) ?? ObjectMeta()
        var new: JSONObject
        if subresource == "status" {
            new = old
            new["status"] = candidate["status"]
        } else {
            new = candidate
            if t.hasStatusSubresource { new["status"] = old["status"] }
        }
        var meta = ObjectMeta(json: new["metadata"] ?? [:]) ?? ObjectMeta()
        if subresource == "status" { meta = oldMeta }
        for field in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"] {
            meta.object[field] = oldMeta.object[field]
        }
        meta.resourceVersion = oldMeta.resourceVersion
        let added = meta.finalizers.filter { !oldMeta.finalizers.contains($0) }
        if oldMeta.deletionTimestamp != nil, !added.isEmpty {
            let list = added.map { FieldError.quoted($0) }.joined(separator: ", ")
            throw APIFailure.invalid(t, key.name, causes: [.forbidden("metadata.finalizers",
                "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(list)}")])
        }
        new["metadata"] = meta.json
        new["apiVersion"] = old["apiVersion"]
        new["kind"] = old["kind"]
        try admitUpdate(t, old: old, new: &new, subresource: subresource)
        meta = ObjectMeta(json: new["metadata"] ?? [:]) ?? meta
        if new == old { return old }  // a no-op write does not bump resourceVersion
        func body(_ o: JSONObject) -> JSONObject { var o = o; o["metadata"] = nil; o["status"] = nil; return o }
        if body(new) != body(old) { meta.generation = (oldMeta.generation ?? 1) + 1 }
        if dryRun { new["metadata"] = meta.json; return new }
        let rv = store.nextRV()
        meta.resourceVersion = String(rv)
        new["metadata"] = meta.json
        if let manager {
            let changed = leafPaths(.object(new)).filter { path, v in value(at: path, in: old) != v }.keys
            takeOwnership(t, key, manager: manager, of: changed, apply: false)
        }
        if meta.deletionTimestamp != nil, meta.finalizers.isEmpty {
            store.objects[APIStore.typeKey(t)]?.removeValue(forKey: key)
            store.ownership["\(APIStore.typeKey(t))/\(key)"] = nil
            store.record("DELETED", t, new, previous: old, rv: rv)
        } else {
            store.objects[APIStore.typeKey(t)]?[key] = new
            store.record("MODIFIED", t, new, previous: old, rv: rv)
        }
        return new
    }

    func update(_ r: Route, body: JSONObject, dryRun: Bool, manager: String) throws(APIFailure) -> JSONObject {
        let name = r.name ?? ""
        let meta = ObjectMeta(json: body["metadata"] ?? [:]) ?? ObjectMeta()
        if let n = meta.name, n != name {
            throw APIFailure.badRequest("the name of the object (\(n)) does not match the name on the URL (\(name))")
        }
        let key = ObjectKey(namespace: r.namespace, name: name)
        return try store.locked { () throws(APIFailure) -> JSONObject in
            guard let old = store.objects[APIStore.typeKey(r.type)]?[key] else { throw APIFailure.notFound(r.type, name) }
            let oldMeta = ObjectMeta(json: old["metadata"] ?? [:]) ?? ObjectMeta()
            if !Self.isBuiltIn(r.type), meta.resourceVersion?.isEmpty ?? true {
                throw APIFailure.invalid(r.type, name, causes: [.invalidRaw("metadata.resourceVersion", "0x0", "must be specified for an update")])
            }
            if let rv = meta.resourceVersion, !rv.isEmpty, rv != oldMeta.resourceVersion {
                throw APIFailure.conflict(r.type, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            if let uid = meta.uid, !uid.isEmpty, uid != oldMeta.uid {
                throw APIFailure.conflict(r.type, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(oldMeta.uid ?? "")")
            }
            return try commit(r.type, key, old: old, candidate: body, subresource: r.subresource, dryRun: dryRun, manager: manager)
        }
    }

    func patch(_ r: Route, _ req: LocalHTTPRequest, dryRun: Bool, manager: String) throws(APIFailure) -> (Int, JSONObject) {
        let name = r.name ?? ""
        let key = ObjectKey(namespace: r.namespace, name: name)
        let contentType = (req.header("Content-Type") ?? "").split(separator: ";").first.map(String.init) ?? ""
        let custom = !Self.isBuiltIn(r.type)
        switch contentType {
        case "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json":
            if contentType == "application/strategic-merge-patch+json", custom {
                throw APIFailure(code: 415, reason: "UnsupportedMediaType",
                                 message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            }
            guard let patch = try? JSONCoding.parse(req.body) else {
                throw APIFailure.badRequest("error decoding patch: invalid JSON in the request body")
            }
            return (200, try store.locked { () throws(APIFailure) -> JSONObject in
                guard let old = store.objects[APIStore.typeKey(r.type)]?[key] else { throw APIFailure.notFound(r.type, name) }
                let candidate: JSONObject
                switch contentType {
                case "application/strategic-merge-patch+json":
                    do throws(StrategicMergePatch.Failure) { candidate = try StrategicMergePatch.apply(patch, to: old) } catch {
                        throw APIFailure(code: 422, reason: "Invalid", message: error.message)
                    }
                case "application/json-patch+json":
                    do throws(JSONPatch.Failure) { candidate = try JSONPatch.apply(patch, to: old) } catch {
                        throw APIFailure(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: \(error.message)")
                    }
                default:
                    candidate = JSONValue.object(old).applyingMergePatch(patch).object ?? old
                }
                let wanted = candidate["metadata"]?.object?["resourceVersion"]?.string
                let current = old["metadata"]?.object?["resourceVersion"]?.string
                if let wanted, wanted != current {
                    throw APIFailure.conflict(r.type, name, "the object has been modified; please apply your changes to the latest version and try again")
                }
                return try commit(r.type, key, old: old, candidate: candidate, subresource: r.subresource, dryRun: dryRun,
                                  manager: manager)
            })
        case "application/apply-patch+yaml":
            guard let fm = req.queryValue("fieldManager"), !fm.isEmpty else {
                throw APIFailure.invalid(r.type, name, causes: [("fieldManager", "FieldValueRequired",
                                                                 "Required value: is required for apply patch")])
            }
            guard let applied = (try? JSONCoding.parse(req.body))?.object else {
                throw APIFailure.badRequest("the apply body must be a JSON (YAML-compatible) object")
            }
            return try apply(r, key: key, applied: applied, manager: fm, force: req.boolQuery("force"), dryRun: dryRun)
        default:
            throw APIFailure(code: 415, reason: "UnsupportedMediaType",
                             message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
                                + (custom ? "" : ", application/strategic-merge-patch+json"))
        }
    }

    private func apply(_ r: Route, key: ObjectKey, applied: JSONObject, manager: String, force: Bool,
                       dryRun: Bool) throws(APIFailure) -> (Int, JSONObject) {
        let existing = try? get(r.type, namespace: r.namespace, name: key.name)
        guard let old = existing else {
            var body = applied
            var meta = ObjectMeta(json: body["metadata"] ?? [:]) ?? ObjectMeta()
            meta.name = key.name
            body["metadata"] = meta.json
            let created = try create(r.type, namespace: r.namespace, body: body, dryRun: dryRun, manager: manager)
            try store.locked { () throws(APIFailure) in
                takeOwnership(r.type, key, manager: manager, of: leafPaths(.object(applied)).keys, apply: true)
            }
            return (201, created)
        }
        return (200, try store.locked { () throws(APIFailure) -> JSONObject in
            let current = store.objects[APIStore.typeKey(r.type)]?[key] ?? old
            let id = "\(APIStore.typeKey(r.type))/\(key)"
            let table = store.ownership[id] ?? [:]
            let mine = "apply:" + manager
            let ignored: Set<String> = [".apiVersion", ".kind", ".metadata.name", ".metadata.namespace", ".metadata.resourceVersion"]
            let paths = leafPaths(.object(applied)).filter { !ignored.contains($0.key) }
            var conflicts: [(String, String)] = []
            for (path, v) in paths where value(at: path, in: current) != v {
                for (owner, owned) in table where owner != mine && owned.contains(path) {
                    conflicts.append((String(owner.split(separator: ":", maxSplits: 1).last ?? ""), path))
                }
            }
            if !conflicts.isEmpty, !force {
                let list = conflicts.map { "conflict with \"\($0.0)\": \($0.1)" }.joined(separator: "\n- ")
                throw APIFailure(code: 409, reason: "Conflict",
                                 message: "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): \(list)",
                                 details: ["name": .string(key.name), "group": .string(r.type.group), "kind": .string(r.type.plural),
                                           "causes": .array(conflicts.map { ["reason": "FieldManagerConflict", "field": .string($0.1),
                                                                             "message": .string("conflict with \"\($0.0)\"")] })])
            }
            var merged = deepMerge(current, applied)
            // Fields this manager applied before, omits now, and nobody else owns are removed.
            let othersOwn = table.filter { $0.key != mine }.values.reduce(into: Set<String>()) { $0.formUnion($1) }
            for path in (table[mine] ?? []) where paths[path] == nil && !othersOwn.contains(path) {
                merged = removing(path: path, from: merged)
            }
            var meta = ObjectMeta(json: merged["metadata"] ?? [:]) ?? ObjectMeta()
            meta.resourceVersion = nil
            merged["metadata"] = meta.json
            let result = try commit(r.type, key, old: current, candidate: merged, subresource: r.subresource, dryRun: dryRun,
                                    manager: nil)
            if !dryRun { takeOwnership(r.type, key, manager: manager, of: paths.keys, apply: true) }
            return result
        })
    }

    func delete(_ r: Route, options: JSONObject, dryRun: Bool) throws(APIFailure) -> (Int, JSONObject) {
        let name = r.name ?? ""
        let key = ObjectKey(namespace: r.namespace, name: name)
        if let policy = options["propagationPolicy"]?.string, !["Orphan", "Background", "Foreground"].contains(policy) {
            throw APIFailure.invalid(r.type, name, causes: [("propagationPolicy", "FieldValueNotSupported",
                "Unsupported value: \"\(policy)\": supported values: \"Foreground\", \"Background\", \"Orphan\"")])
        }
        let dry = dryRun || (options["dryRun"]?.array ?? []).contains("All")
        return try store.locked { () throws(APIFailure) -> (Int, JSONObject) in
            guard var o = store.objects[APIStore.typeKey(r.type)]?[key] else { throw APIFailure.notFound(r.type, name) }
            var meta = ObjectMeta(json: o["metadata"] ?? [:]) ?? ObjectMeta()
            let pre = options["preconditions"]?.object ?? [:]
            if let uid = pre["uid"]?.string, uid != meta.uid {
                throw APIFailure.preconditionFailed(r.type, name, "the UID in the precondition (\(uid)) does not match the UID in record (\(meta.uid ?? "")). The object might have been deleted and then recreated")
            }
            if let rv = pre["resourceVersion"]?.string, rv != meta.resourceVersion {
                throw APIFailure.preconditionFailed(r.type, name, "the ResourceVersion in the precondition (\(rv)) does not match the ResourceVersion in record (\(meta.resourceVersion ?? "")). The object might have been modified")
            }
            if dry { return (200, o) }
            if r.type == Namespace.resourceType, !(o["spec"]?.object?["finalizers"]?.array ?? []).isEmpty {
                // Namespace deletion: Terminating until the namespace controller has removed the contents.
                if meta.deletionTimestamp != nil {
                    throw APIFailure.conflict(r.type, name, "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.")
                }
                let old = o
                meta.deletionTimestamp = Time.now()
                meta.object["deletionGracePeriodSeconds"] = 0
                let rv = store.nextRV()
                meta.resourceVersion = String(rv)
                o["metadata"] = meta.json
                o["status"] = ["phase": "Terminating"]
                store.objects[APIStore.typeKey(r.type)]?[key] = o
                store.record("MODIFIED", r.type, o, previous: old, rv: rv)
                return (200, o)
            }
            if r.type == Pod.resourceType, behaviour.clusterLifecycle,
               let grace = PodGrace.period(pod: o, requested: options["gracePeriodSeconds"]?.int), grace > 0 {
                // Graceful pod deletion: deletionTimestamp = now + grace; the kubelet deletes with grace 0 later.
                let current = meta.object["deletionGracePeriodSeconds"]?.int
                if let current, current <= grace { return (200, o) }
                let old = o
                meta.object["deletionTimestamp"] = .string(Time.after(seconds: grace))
                meta.object["deletionGracePeriodSeconds"] = .int(grace)
                let rv = store.nextRV()
                meta.resourceVersion = String(rv)
                o["metadata"] = meta.json
                store.objects[APIStore.typeKey(r.type)]?[key] = o
                store.record("MODIFIED", r.type, o, previous: old, rv: rv)
                return (200, o)
            }
            if !meta.finalizers.isEmpty {
                if meta.deletionTimestamp != nil { return (202, o) }
                let old = o
                meta.deletionTimestamp = Time.now()
                meta.object["deletionGracePeriodSeconds"] = 0
                let rv = store.nextRV()
                meta.resourceVersion = String(rv)
                o["metadata"] = meta.json
                store.objects[APIStore.typeKey(r.type)]?[key] = o
                store.record("MODIFIED", r.type, o, previous: old, rv: rv)
                return (202, o)
            }
            let rv = store.nextRV()
            meta.resourceVersion = String(rv)
            let old = o
            o["metadata"] = meta.json
            store.objects[APIStore.typeKey(r.type)]?.removeValue(forKey: key)
            store.ownership["\(APIStore.typeKey(r.type))/\(key)"] = nil
            store.record("DELETED", r.type, o, previous: old, rv: rv)
            return (200, o)
        }
    }
}
