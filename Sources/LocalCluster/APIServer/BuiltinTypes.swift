import Kube

/// The built-in kinds the local API server serves, with what discovery says about them (names, short names, verbs,
/// subresources) as kube-apiserver v1.3x does. Kinds nothing in the local cluster acts on (Deployments, RBAC) are
/// stored and served only so that charts and manifests can be applied.
enum BuiltinTypes {
    struct Info: Sendable {
        var type: ResourceType
        var shortNames: [String] = []
        var categories: [String] = []
        var verbs: [String] = Info.allVerbs
        /// Subresources besides `status` (which `type.hasStatusSubresource` covers).
        var subresources: [String] = []

        static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        var singular: String { type.kind.lowercased() }
    }

    private static func t(_ group: String, _ version: String, _ kind: String, _ plural: String, namespaced: Bool,
                          status: Bool) -> ResourceType {
        ResourceType(group: group, version: version, kind: kind, plural: plural, namespaced: namespaced,
                     hasStatusSubresource: status)
    }

    static let infos: [Info] = [
        Info(type: Namespace.resourceType, shortNames: ["ns"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
             subresources: ["finalize"]),
        Info(type: PersistentVolumeClaim.resourceType, shortNames: ["pvc"], categories: ["all"]),
        Info(type: PersistentVolume.resourceType, shortNames: ["pv"]),
        Info(type: Pod.resourceType, shortNames: ["po"], categories: ["all"], subresources: ["binding", "log"]),
        Info(type: Secret.resourceType),
        Info(type: ConfigMap.resourceType, shortNames: ["cm"]),
        Info(type: t("", "v1", "ServiceAccount", "serviceaccounts", namespaced: true, status: false), shortNames: ["sa"]),
        Info(type: t("", "v1", "Service", "services", namespaced: true, status: true), shortNames: ["svc"], categories: ["all"]),
        Info(type: Node.resourceType, shortNames: ["no"]),
        Info(type: CoreEvent.resourceType, shortNames: ["ev"]),
        Info(type: StorageClass.resourceType, shortNames: ["sc"]),
        Info(type: t("storage.k8s.io", "v1", "CSIDriver", "csidrivers", namespaced: false, status: false)),
        Info(type: t("storage.k8s.io", "v1", "CSINode", "csinodes", namespaced: false, status: false)),
        Info(type: t("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", namespaced: false, status: true)),
        Info(type: Event.resourceType, shortNames: ["ev"]),
        Info(type: Lease.resourceType),
        Info(type: CustomResourceDefinition.resourceType, shortNames: ["crd", "crds"], categories: ["api-extensions"]),
        Info(type: SelfSubjectAccessReview.resourceType, verbs: ["create"]),
        Info(type: t("apps", "v1", "Deployment", "deployments", namespaced: true, status: true), shortNames: ["deploy"],
             categories: ["all"]),
        Info(type: t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", namespaced: false, status: false)),
        Info(type: t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", namespaced: false, status: false)),
        Info(type: t("rbac.authorization.k8s.io", "v1", "Role", "roles", namespaced: true, status: false)),
        Info(type: t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", namespaced: true, status: false)),
    ]

    static let all: [ResourceType] = infos.map(\.type)
    static let groups: Set<String> = Set(all.map(\.group))

    static func info(_ t: ResourceType) -> Info? {
        infos.first { $0.type.group == t.group && $0.type.plural == t.plural }
    }
}

/// Resource types of custom kinds, read from their CustomResourceDefinition objects.
enum CRDTypes {
    /// The kind a CRD serves at `version`, or nil if the CRD does not serve it.
    static func resourceType(of crd: JSONObject, version: String) -> ResourceType? {
        let spec = crd["spec"]?.object ?? [:]
        guard let group = spec["group"]?.string, let names = spec["names"]?.object,
              let kind = names["kind"]?.string, let plural = names["plural"]?.string else { return nil }
        guard let v = (spec["versions"]?.array ?? []).compactMap(\.object).first(where: {
            $0["name"]?.string == version && $0["served"]?.bool == true
        }) else { return nil }
        let status = v["subresources"]?.object?["status"] != nil
        return ResourceType(group: group, version: version, kind: kind, plural: plural,
                            namespaced: spec["scope"]?.string != "Cluster", hasStatusSubresource: status)
    }
}

extension CRDTypes {
    /// The status kube-apiserver gives a CRD once its names are accepted and it is established (at once here: there
    /// is no name conflict detection beyond the object name being `<plural>.<group>`).
    static func establishedStatus(of crd: JSONObject) -> JSONObject {
        let spec = crd["spec"]?.object ?? [:]
        let now = JSONValue.string(Time.now())
        let storage = (spec["versions"]?.array ?? []).compactMap(\.object).first { $0["storage"]?.bool == true }?["name"]
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": "True", "lastTransitionTime": now, "reason": .string(reason),
             "message": .string(message)]
        }
        return [
            "acceptedNames": spec["names"] ?? [:],
            "conditions": [condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                           condition("Established", "InitialNamesAccepted", "the initial names have been accepted")],
            "storedVersions": .array(storage.map { [$0] } ?? []),
        ]
    }
}
