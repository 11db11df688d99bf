import Foundation
import Kube

/// PersistentVolume strategy and validation (`persistentvolume/strategy.go`, `ValidatePersistentVolume(Update)`).
enum VolumeRules {
    static let sourceKeys = ["csi", "hostPath", "local", "nfs", "iscsi", "fc", "rbd", "cephfs", "gcePersistentDisk",
                             "awsElasticBlockStore", "azureDisk", "azureFile", "flexVolume", "glusterfs", "cinder",
                             "vsphereVolume", "portworxVolume", "scaleIO", "storageos", "photonPersistentDisk", "quobyte",
                             "flocker"]

    static func prepareForCreate(_ o: inout JSONObject) {
        var spec = o["spec"]?.object ?? [:]
        if spec["persistentVolumeReclaimPolicy"] == nil { spec["persistentVolumeReclaimPolicy"] = "Retain" }
        if spec["volumeMode"] == nil { spec["volumeMode"] = "Filesystem" }
        o["spec"] = .object(spec)
        o["status"] = ["phase": "Pending", "lastPhaseTransitionTime": .string(Time.now())]
    }

    static func validate(_ o: JSONObject) -> [FieldError] {
        let spec = o["spec"]?.object ?? [:]
        var errors: [FieldError] = []
        if spec["capacity"]?.object?["storage"] == nil { errors.append(.required("spec.capacity")) }
        if (spec["accessModes"]?.array ?? []).isEmpty { errors.append(.required("spec.accessModes")) }
        let sources = sourceKeys.filter { spec[$0] != nil }
        if sources.isEmpty { errors.append(.required("spec", "must specify a volume type")) }
        if sources.count > 1 { errors.append(.forbidden("spec.\(sources[1])", "may not specify more than 1 volume type")) }
        if let csi = spec["csi"]?.object {
            if (csi["driver"]?.string ?? "").isEmpty { errors.append(.required("spec.csi.driver")) }
            if (csi["volumeHandle"]?.string ?? "").isEmpty { errors.append(.required("spec.csi.volumeHandle")) }
        }
        if let policy = spec["persistentVolumeReclaimPolicy"]?.string, !["Delete", "Recycle", "Retain"].contains(policy) {
            errors.append(.notSupported("spec.persistentVolumeReclaimPolicy", policy, ["Delete", "Recycle", "Retain"]))
        }
        return errors
    }

    static func validateUpdate(new: JSONObject, old: JSONObject) -> [FieldError] {
        let newSpec = new["spec"]?.object ?? [:]
        let oldSpec = old["spec"]?.object ?? [:]
        var errors: [FieldError] = []
        var newSource = newSpec.filter { sourceKeys.contains($0.key) }
        let oldSource = oldSpec.filter { sourceKeys.contains($0.key) }
        // Only csi.controllerExpandSecretRef may be added while nil.
        if var csi = newSource["csi"]?.object, oldSource["csi"]?.object?["controllerExpandSecretRef"] == nil {
            csi["controllerExpandSecretRef"] = nil
            newSource["csi"] = .object(csi)
        }
        var oldCompared = oldSource
        if var csi = oldCompared["csi"]?.object, oldSource["csi"]?.object?["controllerExpandSecretRef"] == nil {
            csi["controllerExpandSecretRef"] = nil
            oldCompared["csi"] = .object(csi)
        }
        if newSource != oldCompared {
            errors.append(.forbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation\n"
                                     + SpecDiff.render(old: oldSource, new: newSource, type: "core.PersistentVolumeSource")))
        }
        if newSpec["volumeMode"] != oldSpec["volumeMode"] {
            errors.append(.invalid("volumeMode", newSpec["volumeMode"]?.string ?? "", "field is immutable"))
        }
        if let oldAffinity = oldSpec["nodeAffinity"], newSpec["nodeAffinity"] != oldAffinity {
            errors.append(.invalidRaw("nodeAffinity", JSONCoding.string(newSpec["nodeAffinity"] ?? .null),
                                      "field is immutable, except for updating from beta label to GA"))
        }
        return errors
    }

    /// `/status`: a phase change stamps `lastPhaseTransitionTime`.
    static func prepareForStatusUpdate(_ new: inout JSONObject, old: JSONObject) {
        var status = new["status"]?.object ?? [:]
        if status["phase"] != old["status"]?.object?["phase"] { status["lastPhaseTransitionTime"] = .string(Time.now()) }
        new["status"] = .object(status)
    }
}

/// StorageClass defaults and immutability (`pkg/apis/storage/v1/defaults.go`, `ValidateStorageClassUpdate`).
enum StorageClassRules {
    static func prepareForCreate(_ o: inout JSONObject) {
        if o["reclaimPolicy"] == nil { o["reclaimPolicy"] = "Delete" }
        if o["volumeBindingMode"] == nil { o["volumeBindingMode"] = "Immediate" }
    }

    static func validate(_ o: JSONObject) -> [FieldError] {
        var errors: [FieldError] = []
        if (o["provisioner"]?.string ?? "").isEmpty { errors.append(.required("provisioner")) }
        if let mode = o["volumeBindingMode"]?.string, !["Immediate", "WaitForFirstConsumer"].contains(mode) {
            errors.append(.notSupported("volumeBindingMode", mode, ["Immediate", "WaitForFirstConsumer"]))
        }
        if let policy = o["reclaimPolicy"]?.string, !["Delete", "Retain"].contains(policy) {
            errors.append(.notSupported("reclaimPolicy", policy, ["Delete", "Retain"]))
        }
        return errors
    }

    static func validateUpdate(new: JSONObject, old: JSONObject) -> [FieldError] {
        var errors: [FieldError] = []
        if new["parameters"] != old["parameters"] { errors.append(.forbidden("parameters", "updates to parameters are forbidden.")) }
        if new["provisioner"] != old["provisioner"] { errors.append(.forbidden("provisioner", "updates to provisioner are forbidden.")) }
        if new["reclaimPolicy"] != old["reclaimPolicy"] { errors.append(.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden.")) }
        if new["volumeBindingMode"] != old["volumeBindingMode"] {
            errors.append(.forbidden("volumeBindingMode", "field is immutable"))
        }
        return errors
    }
}

/// Pod defaults, validation and update rules (`pod/strategy.go`, `ValidatePod(Update)`).
enum PodRules {
    static let updatableMessage = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    static func prepareForCreate(_ o: inout JSONObject) {
        var spec = o["spec"]?.object ?? [:]
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
        if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
        if spec["securityContext"] == nil { spec["securityContext"] = [:] }
        for field in ["containers", "initContainers"] {
            guard let list = spec[field]?.array else { continue }
            spec[field] = .array(list.map { c in
                guard var c = c.object else { return c }
                if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
                if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
                if c["imagePullPolicy"] == nil {
                    let image = c["image"]?.string ?? ""
                    let tagged = image.split(separator: "/").last?.contains(":") ?? false
                    c["imagePullPolicy"] = (!tagged || image.hasSuffix(":latest")) ? "Always" : "IfNotPresent"
                }
                if c["resources"] == nil { c["resources"] = [:] }
                return .object(c)
            })
        }
        o["spec"] = .object(spec)
        o["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
    }

    static func validate(_ o: JSONObject) -> [FieldError] {
        let spec = o["spec"]?.object ?? [:]
        var errors: [FieldError] = []
        let containers = spec["containers"]?.array ?? []
        if containers.isEmpty { errors.append(.required("spec.containers")) }
        var names: Set<String> = []
        for (field, list) in [("containers", containers), ("initContainers", spec["initContainers"]?.array ?? [])] {
            for (i, c) in list.enumerated() {
                let name = c.object?["name"]?.string ?? ""
                if name.isEmpty { errors.append(.required("spec.\(field)[\(i)].name")) }
                else {
                    errors += NameRules.labelErrors(name).map { FieldError.invalid("spec.\(field)[\(i)].name", name, $0) }
                    if !names.insert(name).inserted {
                        errors.append(FieldError(field: "spec.\(field)[\(i)].name", reason: "FieldValueDuplicate",
                                                 message: "Duplicate value: \(FieldError.quoted(name))"))
                    }
                }
                if (c.object?["image"]?.string ?? "").isEmpty { errors.append(.required("spec.\(field)[\(i)].image")) }
            }
        }
        if let policy = spec["restartPolicy"]?.string, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("spec.restartPolicy", policy, ["Always", "Never", "OnFailure"]))
        }
        return errors
    }

    static func validateUpdate(new: JSONObject, old: JSONObject) -> [FieldError] {
        var newSpec = new["spec"]?.object ?? [:]
        let oldSpec = old["spec"]?.object ?? [:]
        for field in ["containers", "initContainers"] where (newSpec[field]?.array?.count ?? 0) != (oldSpec[field]?.array?.count ?? 0) {
            return [.forbidden("spec.\(field)", "pod updates may not add or remove containers")]
        }
        // Mask what may change: images, activeDeadlineSeconds, added tolerations, terminationGracePeriodSeconds.
        for field in ["containers", "initContainers"] {
            guard let list = newSpec[field]?.array, let oldList = oldSpec[field]?.array else { continue }
            newSpec[field] = .array(zip(list, oldList).map { n, o in
                guard var c = n.object else { return n }
                c["image"] = o.object?["image"]
                return .object(c)
            })
        }
        newSpec["activeDeadlineSeconds"] = oldSpec["activeDeadlineSeconds"]
        newSpec["terminationGracePeriodSeconds"] = oldSpec["terminationGracePeriodSeconds"]
        let oldTolerations = oldSpec["tolerations"]?.array ?? []
        let newTolerations = newSpec["tolerations"]?.array ?? []
        if oldTolerations.allSatisfy(newTolerations.contains) { newSpec["tolerations"] = oldSpec["tolerations"] }
        guard newSpec != oldSpec else { return [] }
        return [.forbidden("spec", updatableMessage + "\n" + SpecDiff.render(old: oldSpec, new: newSpec, type: "core.PodSpec"))]
    }
}
