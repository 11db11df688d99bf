import Foundation
import Kube

/// The per-kind strategies (defaulting, field dropping, validation) and the admission plugins of a real API server
/// that matter to a volume workflow, applied to every write whoever makes it (kubectl, Ferry, the simulated
/// components, `seed`).
extension KubeAPIServer {
    /// Create: defaults and validation for `o` (metadata already prepared). Caller holds the store lock.
    func admitCreate(_ t: ResourceType, _ o: inout JSONObject) throws(APIFailure) {
        let meta = o["metadata"]?.object ?? [:]
        let name = meta["name"]?.string ?? ""
        var errors = MetaValidation.validate(meta, type: t)
        switch (t.group, t.plural) {
        case ("", "persistentvolumeclaims"):
            ClaimRules.prepareForCreate(&o, crossNamespaceVolumeDataSource: crossNamespaceVolumeDataSource)
            errors += ClaimRules.validate(o)
            if behaviour.clusterLifecycle { addFinalizer("kubernetes.io/pvc-protection", to: &o) }
            defaultStorageClass(&o)
        case ("", "persistentvolumes"):
            VolumeRules.prepareForCreate(&o)
            errors += VolumeRules.validate(o)
            if behaviour.clusterLifecycle { addFinalizer("kubernetes.io/pv-protection", to: &o) }
        case ("", "secrets"):
            Self.mergeStringData(&o)
        case ("", "pods"):
            PodRules.prepareForCreate(&o)
            errors += PodRules.validate(o)
        case ("storage.k8s.io", "storageclasses"):
            StorageClassRules.prepareForCreate(&o)
            errors += StorageClassRules.validate(o)
        case ("apiextensions.k8s.io", "customresourcedefinitions"):
            errors += CRDRules.validate(o)
        default:
            if !Self.isBuiltIn(t) { errors += try customResourceErrors(t, &o, old: nil) }
        }
        if !errors.isEmpty { throw APIFailure.invalid(t, name, causes: errors) }
    }

    /// Update of the main resource or `/status`: strategy and validation of `new` against `old`. Caller holds the lock.
    func admitUpdate(_ t: ResourceType, old: JSONObject, new: inout JSONObject, subresource: String?) throws(APIFailure) {
        let name = old["metadata"]?.object?["name"]?.string ?? ""
        var errors = MetaValidation.validate(new["metadata"]?.object ?? [:], type: t)
        switch (t.group, t.plural, subresource) {
        case ("", "persistentvolumeclaims", nil):
            ClaimRules.prepareForUpdate(&new, old: old, crossNamespaceVolumeDataSource: crossNamespaceVolumeDataSource)
            errors += ClaimRules.validate(new) + ClaimRules.validateUpdate(new: new, old: old)
        case ("", "persistentvolumes", nil):
            errors += VolumeRules.validate(new) + VolumeRules.validateUpdate(new: new, old: old)
        case ("", "persistentvolumes", "status"):
            VolumeRules.prepareForStatusUpdate(&new, old: old)
        case ("", "secrets", nil):
            Self.mergeStringData(&new)
        case ("", "pods", nil):
            errors += PodRules.validateUpdate(new: new, old: old)
        case ("storage.k8s.io", "storageclasses", nil):
            errors += StorageClassRules.validateUpdate(new: new, old: old)
        case ("apiextensions.k8s.io", "customresourcedefinitions", nil):
            errors += CRDRules.validate(new)
        default:
            if !Self.isBuiltIn(t) { errors += try customResourceErrors(t, &new, old: old) }
        }
        if !errors.isEmpty { throw APIFailure.invalid(t, name, causes: errors) }
    }

    /// A Secret's write-only `stringData` is merged into `data` (base64, overriding the same keys) and never stored or
    /// returned (the v1 → internal conversion of a real API server).
    static func mergeStringData(_ o: inout JSONObject) {
        guard let strings = o["stringData"]?.object else { return }
        var data = o["data"]?.object ?? [:]
        for (key, value) in strings {
            if let text = value.string { data[key] = .string(Data(text.utf8).base64EncodedString()) }
        }
        o["data"] = .object(data)
        o["stringData"] = nil
    }

    func addFinalizer(_ f: String, to o: inout JSONObject) {
        var meta = o["metadata"]?.object ?? [:]
        var list = meta["finalizers"]?.array ?? []
        if !list.contains(.string(f)) { list.append(.string(f)) }
        meta["finalizers"] = .array(list)
        o["metadata"] = .object(meta)
    }

    /// Admission `DefaultStorageClass`: a nil `storageClassName` takes the class annotated
    /// `storageclass.kubernetes.io/is-default-class: "true"` (the newest if several). Caller holds the lock.
    func defaultStorageClass(_ o: inout JSONObject) {
        guard var spec = o["spec"]?.object, spec["storageClassName"] == nil else { return }
        let classes = (store.objects[APIStore.typeKey(StorageClass.resourceType)] ?? [:]).values.filter {
            $0["metadata"]?.object?["annotations"]?.object?["storageclass.kubernetes.io/is-default-class"]?.string == "true"
        }
        guard let newest = classes.max(by: {
            ($0["metadata"]?.object?["creationTimestamp"]?.string ?? "") < ($1["metadata"]?.object?["creationTimestamp"]?.string ?? "")
        }), let name = newest["metadata"]?.object?["name"]?.string else { return }
        spec["storageClassName"] = .string(name)
        o["spec"] = .object(spec)
    }

    /// Schema validation (and pruning) of a custom resource against its CRD's `openAPIV3Schema`. Caller holds the lock.
    func customResourceErrors(_ t: ResourceType, _ o: inout JSONObject, old: JSONObject?) throws(APIFailure) -> [FieldError] {
        guard let crd = store.objects[APIStore.typeKey(CustomResourceDefinition.resourceType)]?[
            ObjectKey(namespace: nil, name: t.qualifiedName)],
              let version = (crd["spec"]?.object?["versions"]?.array ?? []).compactMap(\.object)
                .first(where: { $0["name"]?.string == t.version }),
              let schema = version["schema"]?.object?["openAPIV3Schema"]?.object else { return [] }
        var errors: [FieldError] = []
        var body = o
        body["metadata"] = nil
        body["apiVersion"] = nil
        body["kind"] = nil
        let (pruned, unknown) = SchemaValidation.prune(.object(body), schema: schema, path: "")
        if strictFieldValidation, let first = unknown.first {
            throw APIFailure(code: 400, reason: "BadRequest", message: "strict decoding error: unknown field \"\(first)\"")
        }
        var result = pruned.object ?? [:]
        result["metadata"] = o["metadata"]
        result["apiVersion"] = o["apiVersion"]
        result["kind"] = o["kind"]
        errors += SchemaValidation.validate(.object(result.filter { $0.key != "metadata" }), schema: schema, path: "")
        o = result
        return errors
    }
}
