import Foundation
import Kube
import LocalHTTPS

/// The kube-controller-manager loops that belong to the API machinery rather than to storage (kubernetes.md §9.1,
/// §9.6), run by the API server itself on one background thread when `behaviour.controllers` is on:
///
/// - **garbage collector** (background propagation): a dependent none of whose owners exists — looked up in the
///   dependent's namespace for namespaced owners, cluster-wide for cluster-scoped ones, with a matching UID — is
///   deleted (respecting its finalizers); dangling references beside a live owner are removed. A cluster-scoped
///   dependent with a namespaced owner is never collected. A namespaced owner referenced from another namespace is
///   absent there, so its dependent is deleted (upstream also records `OwnerRefInvalidNamespace`; not here).
/// - **namespace controller**: a namespace with a `deletionTimestamp` is `Terminating`; its pods are deleted first, then
///   everything else; once nothing is left, the `kubernetes` finalizer goes and the namespace with it.
///
/// (The pvc-/pv-protection controllers are simulated components: `ProtectionController`.)
/// Knowingly different: sweeps run every 100 ms over the whole store instead of reacting to informer events; no
/// namespace conditions are written; foreground deletion is treated as background.
extension KubeAPIServer {
    func startControllers() {
        let t = Thread { [weak self] in
            var lastRV: Int64 = -1
            while let server = self, !server.stopped.withLock({ $0 }) {
                let rv = server.currentRV
                if rv != lastRV {
                    lastRV = rv
                    server.sweep()
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        t.name = "local-controller-manager"
        t.start()
    }

    var currentRV: Int64 { store.cond.lock(); defer { store.cond.unlock() }; return store.rv }

    /// One pass of every loop; each deletion goes through the normal delete path (finalizers respected).
    func sweep() {
        var deletions: [(ResourceType, ObjectKey, String)] = []  // type, key, uid precondition
        var finalize: [String] = []
        var danglers: [(ResourceType, ObjectKey, [JSONValue])] = []
        store.cond.lock()
        let types = allServedTypes()
        func type(of key: String) -> ResourceType? { types.first { APIStore.typeKey($0) == key } }
        let namespaceKey = APIStore.typeKey(Namespace.resourceType)
        let terminating = (store.objects[namespaceKey] ?? [:]).values.filter {
            $0["metadata"]?.object?["deletionTimestamp"] != nil
        }.compactMap { $0["metadata"]?.object?["name"]?.string }
        // Namespace controller.
        for ns in terminating {
            var remaining = 0
            var pods = 0
            for (typeKey, bucket) in store.objects where typeKey != namespaceKey {
                for (key, o) in bucket where key.namespace == ns {
                    remaining += 1
                    if typeKey == APIStore.typeKey(Pod.resourceType) { pods += 1 }
                }
            }
            if remaining == 0 { finalize.append(ns); continue }
            for (typeKey, bucket) in store.objects where typeKey != namespaceKey {
                guard let t = type(of: typeKey), pods == 0 || t == Pod.resourceType else { continue }
                for (key, o) in bucket where key.namespace == ns && o["metadata"]?.object?["deletionTimestamp"] == nil {
                    deletions.append((t, key, o["metadata"]?.object?["uid"]?.string ?? ""))
                }
            }
        }
        // Garbage collector.
        var uidIndex: [String: (namespace: String?, typeKey: String)] = [:]
        for (typeKey, bucket) in store.objects {
            for (key, o) in bucket { if let uid = o["metadata"]?.object?["uid"]?.string { uidIndex[uid] = (key.namespace, typeKey) } }
        }
        for (typeKey, bucket) in store.objects {
            guard let t = type(of: typeKey) else { continue }
            for (key, o) in bucket {
                let meta = o["metadata"]?.object ?? [:]
                guard let refs = meta["ownerReferences"]?.array, !refs.isEmpty, meta["deletionTimestamp"] == nil else { continue }
                var present: [JSONValue] = []
                var unresolvable = false
                for ref in refs {
                    let uid = ref.object?["uid"]?.string ?? ""
                    let ownerType = types.first { $0.kind == ref.object?["kind"]?.string && $0.apiVersion == ref.object?["apiVersion"]?.string }
                    if !t.namespaced, ownerType?.namespaced == true { unresolvable = true; continue }
                    if let owner = uidIndex[uid], owner.namespace == (ownerType?.namespaced == false ? nil : key.namespace) {
                        present.append(ref)
                    }
                }
                if unresolvable { continue }
                if present.isEmpty { deletions.append((t, key, meta["uid"]?.string ?? "")) }
                else if present.count < refs.count { danglers.append((t, key, present)) }
            }
        }
        store.cond.unlock()

        for (t, key, uid) in deletions {
            _ = try? delete(Route(type: t, namespace: key.namespace, name: key.name, subresource: nil),
                            options: ["propagationPolicy": "Background", "preconditions": ["uid": .string(uid)]], dryRun: false)
        }
        for (t, key, keep) in danglers {
            try? store.locked { () throws(APIFailure) in
                guard var o = store.objects[APIStore.typeKey(t)]?[key] else { return }
                let old = o
                var meta = o["metadata"]?.object ?? [:]
                meta["ownerReferences"] = .array(keep)
                o["metadata"] = .object(meta)
                _ = try commit(t, key, old: old, candidate: o, subresource: nil, dryRun: false, manager: "garbage-collector")
            }
        }
        for ns in finalize { finalizeNamespace(ns) }
    }

    /// PUT `namespaces/<ns>/finalize` without `kubernetes`: the namespace goes (if no other finalizer holds it).
    func finalizeNamespace(_ ns: String) {
        try? store.locked { () throws(APIFailure) in
            let key = ObjectKey(namespace: nil, name: ns)
            guard var o = store.objects[APIStore.typeKey(Namespace.resourceType)]?[key] else { return }
            var spec = o["spec"]?.object ?? [:]
            spec["finalizers"] = .array((spec["finalizers"]?.array ?? []).filter { $0 != "kubernetes" })
            o["spec"] = .object(spec)
            let meta = o["metadata"]?.object ?? [:]
            let rv = store.nextRV()
            var deleted = o
            var m = meta
            m["resourceVersion"] = .string(String(rv))
            deleted["metadata"] = .object(m)
            if (spec["finalizers"]?.array ?? []).isEmpty, (meta["finalizers"]?.array ?? []).isEmpty {
                store.objects[APIStore.typeKey(Namespace.resourceType)]?.removeValue(forKey: key)
                store.record("DELETED", Namespace.resourceType, deleted, previous: o, rv: rv)
            } else {
                store.objects[APIStore.typeKey(Namespace.resourceType)]?[key] = deleted
                store.record("MODIFIED", Namespace.resourceType, deleted, previous: o, rv: rv)
            }
        }
    }

    /// Built-in kinds plus every served version of every stored CRD. Caller holds the lock.
    func allServedTypes() -> [ResourceType] {
        var out = BuiltinTypes.all
        for crd in (store.objects[APIStore.typeKey(CustomResourceDefinition.resourceType)] ?? [:]).values {
            for v in (crd["spec"]?.object?["versions"]?.array ?? []).compactMap({ $0.object?["name"]?.string }) {
                if let t = CRDTypes.resourceType(of: crd, version: v) { out.append(t) }
            }
        }
        return out
    }
}
