import Kube

/// PersistentVolumeClaim create/update strategy and validation (kubernetes.md §1.2, §9.1): `persistentvolumeclaim/
/// strategy.go`, `pkg/api/persistentvolumeclaim/util.go` and `ValidatePersistentVolumeClaim(Update)`.
enum ClaimRules {
    static let accessModes = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]

    /// Create: defaults, then the data-source field dropping and normalisation in `strategy.go`'s order.
    static func prepareForCreate(_ o: inout JSONObject, crossNamespaceVolumeDataSource: Bool) {
        var spec = o["spec"]?.object ?? [:]
        if spec["volumeMode"] == nil { spec["volumeMode"] = "Filesystem" }
        dropDisabledFields(&spec, old: nil, gate: crossNamespaceVolumeDataSource)
        enforceDataSourceBackwardsCompatibility(&spec, old: nil)
        normalizeDataSources(&spec)
        o["spec"] = .object(spec)
        o["status"] = ["phase": "Pending"]
    }

    /// Update of the main resource: status stays the old one; the same field rules, relative to the old spec.
    static func prepareForUpdate(_ new: inout JSONObject, old: JSONObject, crossNamespaceVolumeDataSource: Bool) {
        var spec = new["spec"]?.object ?? [:]
        let oldSpec = old["spec"]?.object ?? [:]
        dropDisabledFields(&spec, old: oldSpec, gate: crossNamespaceVolumeDataSource)
        if oldSpec["dataSource"] == nil, oldSpec["dataSourceRef"] == nil {
            enforceDataSourceBackwardsCompatibility(&spec, old: oldSpec)
        }
        normalizeDataSources(&spec)
        new["spec"] = .object(spec)
    }

    /// `DropDisabledFields`: with CrossNamespaceVolumeDataSource off, a namespaced `dataSourceRef` is removed whole,
    /// unless the old object already had one.
    static func dropDisabledFields(_ spec: inout JSONObject, old: JSONObject?, gate: Bool) {
        guard !gate, let ref = spec["dataSourceRef"]?.object, !(ref["namespace"]?.string ?? "").isEmpty else { return }
        if let oldRef = old?["dataSourceRef"]?.object, !(oldRef["namespace"]?.string ?? "").isEmpty { return }
        spec["dataSourceRef"] = nil
    }

    /// `EnforceDataSourceBackwardsCompatibility`: without `dataSourceRef`, a `dataSource` other than a core PVC or a
    /// VolumeSnapshot is dropped silently.
    static func enforceDataSourceBackwardsCompatibility(_ spec: inout JSONObject, old: JSONObject?) {
        guard spec["dataSourceRef"] == nil, let ds = spec["dataSource"]?.object else { return }
        let group = ds["apiGroup"]?.string ?? ""
        let kind = ds["kind"]?.string ?? ""
        let known = (group.isEmpty && kind == "PersistentVolumeClaim") || (group == "snapshot.storage.k8s.io" && kind == "VolumeSnapshot")
        if !known { spec["dataSource"] = nil }
    }

    /// `NormalizeDataSources`: `dataSource` only → copied to `dataSourceRef`; a `dataSourceRef` without namespace →
    /// copied to `dataSource`.
    static func normalizeDataSources(_ spec: inout JSONObject) {
        if let ds = spec["dataSource"]?.object, spec["dataSourceRef"] == nil {
            spec["dataSourceRef"] = .object(ds.filter { ["apiGroup", "kind", "name"].contains($0.key) })
        } else if let ref = spec["dataSourceRef"]?.object, spec["dataSource"] == nil,
                  (ref["namespace"]?.string ?? "").isEmpty {
            spec["dataSource"] = .object(ref.filter { ["apiGroup", "kind", "name"].contains($0.key) })
        }
    }

    static func validate(_ o: JSONObject) -> [FieldError] {
        let spec = o["spec"]?.object ?? [:]
        var errors: [FieldError] = []
        let modes = (spec["accessModes"]?.array ?? []).compactMap(\.string)
        if modes.isEmpty { errors.append(.required("spec.accessModes", "at least 1 access mode is required")) }
        for m in modes where !accessModes.contains(m) { errors.append(.notSupported("spec.accessModes", m, accessModes)) }
        if modes.contains("ReadWriteOncePod"), modes.count > 1 {
            errors.append(.forbidden("spec.accessModes", "may not use ReadWriteOncePod with other access modes"))
        }
        if let mode = spec["volumeMode"]?.string, !["Block", "Filesystem"].contains(mode) {
            errors.append(.notSupported("spec.volumeMode", mode, ["Block", "Filesystem"]))
        }
        let requests = spec["resources"]?.object?["requests"]?.object ?? [:]
        if let storage = requests["storage"] {
            let text = storage.string ?? storage.int.map { String($0) } ?? ""
            if let bytes = Quantity.bytes(text) {
                if bytes <= 0 { errors.append(.invalid("spec.resources.requests[storage]", text, "must be greater than zero")) }
            } else {
                errors.append(.invalid("spec.resources.requests[storage]", text,
                                       "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"))
            }
        } else {
            errors.append(.required("spec.resources[storage]"))
        }
        errors += dataSourceErrors(spec)
        return errors
    }

    static func dataSourceErrors(_ spec: JSONObject) -> [FieldError] {
        var errors: [FieldError] = []
        func reference(_ r: JSONObject, _ path: String, namespaced: Bool) {
            if (r["name"]?.string ?? "").isEmpty { errors.append(.required("\(path).name")) }
            let kind = r["kind"]?.string ?? ""
            if kind.isEmpty { errors.append(.required("\(path).kind")) }
            let group = r["apiGroup"]?.string ?? ""
            if group.isEmpty, !kind.isEmpty, kind != "PersistentVolumeClaim" {
                errors.append(.invalid("\(path).kind", kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
            }
            if !group.isEmpty {
                errors += NameRules.subdomainErrors(group).map { FieldError.invalid("\(path).apiGroup", group, $0) }
            }
            if namespaced, let ns = r["namespace"]?.string, !ns.isEmpty {
                errors += NameRules.labelErrors(ns).map { FieldError.invalid("\(path).namespace", ns, $0) }
            }
        }
        let ds = spec["dataSource"]?.object
        let ref = spec["dataSourceRef"]?.object
        if let ds { reference(ds, "spec.dataSource", namespaced: false) }
        if let ref { reference(ref, "spec.dataSourceRef", namespaced: true) }
        if let ds, let ref {
            if !(ref["namespace"]?.string ?? "").isEmpty {
                errors.append(.invalidRaw("spec.dataSource", render(ds), "may not be specified when dataSourceRef.namespace is specified"))
            } else if !sameReference(ds, ref) {
                errors.append(FieldError(field: "spec", reason: "FieldValueInvalid", message: "Invalid value: must match dataSourceRef"))
            }
        }
        return errors
    }

    static func sameReference(_ a: JSONObject, _ b: JSONObject) -> Bool {
        (a["apiGroup"]?.string ?? "") == (b["apiGroup"]?.string ?? "") && a["kind"]?.string == b["kind"]?.string
            && a["name"]?.string == b["name"]?.string
    }

    /// A Go-like rendering of a typed reference (`core.TypedLocalObjectReference{…}`), pointers shown by value.
    static func render(_ r: JSONObject) -> String {
        let group = r["apiGroup"]?.string.map { "(*string)(\(FieldError.quoted($0)))" } ?? "(*string)(nil)"
        return "core.TypedLocalObjectReference{APIGroup:\(group), Kind:\(FieldError.quoted(r["kind"]?.string ?? "")), Name:\(FieldError.quoted(r["name"]?.string ?? ""))}"
    }

    /// `ValidatePersistentVolumeClaimUpdate`: what may change and the exact refusals.
    static func validateUpdate(new: JSONObject, old: JSONObject) -> [FieldError] {
        var newSpec = new["spec"]?.object ?? [:]
        let oldSpec = old["spec"]?.object ?? [:]
        var errors: [FieldError] = []
        let bound = old["status"]?.object?["phase"]?.string == "Bound"
        if (oldSpec["volumeName"]?.string ?? "").isEmpty { newSpec["volumeName"] = oldSpec["volumeName"] }
        if oldSpec["storageClassName"] == nil { newSpec["storageClassName"] = oldSpec["storageClassName"] }
        if newSpec["volumeAttributesClassName"] == nil, oldSpec["volumeAttributesClassName"] != nil {
            errors.append(.forbidden("spec.volumeAttributesClassName", "update from non-nil value to nil is forbidden"))
        }
        newSpec["volumeAttributesClassName"] = oldSpec["volumeAttributesClassName"]
        if bound {
            let newStorage = quantity(newSpec, ["resources", "requests", "storage"])
            let oldStorage = quantity(oldSpec, ["resources", "requests", "storage"])
            let capacity = quantity(old["status"]?.object ?? [:], ["capacity", "storage"])
            // RecoverVolumeExpansionFailure (GA): shrinking is allowed, but only to above status.capacity.
            if let n = newStorage, let o = oldStorage, n < o {
                if let c = capacity {
                    if n <= c { errors.append(.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity")) }
                } else {
                    errors.append(.forbidden("spec.resources.requests.storage", "field can not be less than previous value"))
                }
            }
            var resources = newSpec["resources"]?.object ?? [:]
            resources["requests"] = oldSpec["resources"]?.object?["requests"]
            newSpec["resources"] = .object(resources)
        }
        if newSpec["volumeMode"] != oldSpec["volumeMode"] {
            errors.append(.invalid("volumeMode", newSpec["volumeMode"]?.string ?? "", "field is immutable"))
            newSpec["volumeMode"] = oldSpec["volumeMode"]
        }
        if newSpec != oldSpec {
            errors.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n" + SpecDiff.render(old: oldSpec, new: newSpec, type: "core.PersistentVolumeClaimSpec")))
        }
        return errors
    }

    static func quantity(_ o: JSONObject, _ path: [String]) -> Int64? {
        var cur: JSONValue = .object(o)
        for p in path { guard let next = cur.object?[p] else { return nil }; cur = next }
        return cur.string.flatMap(Quantity.bytes) ?? cur.int
    }
}

/// A go-cmp-like diff of two specs (`  core.X{` … `- "field": old` / `+ "field": new` … `}`), field by field at the top
/// level. Upstream prints go-cmp's exact rendering of Go structs; this keeps its shape, not its byte-exact text.
enum SpecDiff {
    static func render(old: JSONObject, new: JSONObject, type: String) -> String {
        var lines = ["  \(type){"]
        for key in Set(old.keys).union(new.keys).sorted() where old[key] != new[key] {
            if let o = old[key] { lines.append("- \t\(key): \(JSONCoding.string(o)),") }
            if let n = new[key] { lines.append("+ \t\(key): \(JSONCoding.string(n)),") }
        }
        lines.append("  }")
        return lines.joined(separator: "\n")
    }
}
