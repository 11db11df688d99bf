import Foundation

/// A StorageClass's `parameters` split as external-provisioner splits them (kubernetes.md §1.6): the reserved
/// `csi.storage.k8s.io/` keys (fsType, secret name/namespace templates) apart from the driver's own parameters. Pure.
public struct StorageClassParameters: Sendable, Hashable {
    public static let prefix = "csi.storage.k8s.io/"

    /// The secret kinds a StorageClass can name, by the key stem external-provisioner uses.
    public enum SecretKind: String, Sendable, CaseIterable {
        case provisioner, controllerPublish = "controller-publish", nodeStage = "node-stage",
             nodePublish = "node-publish", controllerExpand = "controller-expand", nodeExpand = "node-expand",
             controllerModify = "controller-modify"
    }

    /// Name and namespace templates of one secret (unresolved, e.g. `${pvc.namespace}`).
    public struct SecretTemplate: Sendable, Hashable {
        public var name: String
        public var namespace: String
    }

    /// The driver's parameters: everything without the reserved prefix.
    public var driverParameters: [String: String]
    /// `csi.storage.k8s.io/fstype` or the deprecated `fstype`.
    public var fsType: String?
    public var secrets: [SecretKind: SecretTemplate]

    /// - Throws: ``ProvisioningProblem`` for an unknown reserved key, both fsType keys, or a secret with a name but
    ///   no namespace (or the reverse).
    public init(_ parameters: [String: String]) throws(ProvisioningProblem) {
        var driver: [String: String] = [:]
        var reserved: [String: String] = [:]
        for (key, value) in parameters {
            if key.hasPrefix(Self.prefix) { reserved[String(key.dropFirst(Self.prefix.count))] = value } else { driver[key] = value }
        }
        var fsType: String?
        if let deprecated = driver.removeValue(forKey: "fstype") {
            fsType = deprecated
        }
        var known: Set<String> = ["fstype", "secret-name", "secret-namespace"]
        for kind in SecretKind.allCases { known.insert("\(kind.rawValue)-secret-name"); known.insert("\(kind.rawValue)-secret-namespace") }
        for key in reserved.keys.sorted() where !known.contains(key) {
            throw ProvisioningProblem(.invalidStorageClass,
                                      "found unknown parameter key \"\(Self.prefix)\(key)\" with reserved namespace \(Self.prefix)")
        }
        if let value = reserved["fstype"] {
            if fsType != nil {
                throw ProvisioningProblem(.invalidStorageClass,
                                          "fstype and \(Self.prefix)fstype are both set in the StorageClass parameters; set only \(Self.prefix)fstype")
            }
            fsType = value
        }
        var secrets: [SecretKind: SecretTemplate] = [:]
        for kind in SecretKind.allCases {
            var name = reserved["\(kind.rawValue)-secret-name"]
            var namespace = reserved["\(kind.rawValue)-secret-namespace"]
            if name == nil, namespace == nil { name = reserved["secret-name"]; namespace = reserved["secret-namespace"] }
            switch (name, namespace) {
            case (nil, nil): continue
            case (let n?, let ns?): secrets[kind] = SecretTemplate(name: n, namespace: ns)
            default:
                throw ProvisioningProblem(.invalidStorageClass,
                                          "either name and namespace for \(kind.rawValue) secrets specified, both must be specified")
            }
        }
        self.driverParameters = driver
        self.fsType = fsType
        self.secrets = secrets
    }
}

/// Resolves secret name and namespace templates (`${pv.name}`, `${pvc.name}`, `${pvc.namespace}`,
/// `${pvc.annotations['key']}`) as external-provisioner does. Names may use all four; namespaces only `${pv.name}`
/// and `${pvc.namespace}`. Pure.
public enum SecretTemplateResolver {
    public struct Context: Sendable {
        public var pvName: String
        public var pvcName: String
        public var pvcNamespace: String
        public var pvcAnnotations: [String: String]
        public init(pvName: String, pvcName: String, pvcNamespace: String, pvcAnnotations: [String: String]) {
            self.pvName = pvName
            self.pvcName = pvcName
            self.pvcNamespace = pvcNamespace
            self.pvcAnnotations = pvcAnnotations
        }
    }

    /// The secret's namespace and name.
    public static func resolve(_ template: StorageClassParameters.SecretTemplate, kind: StorageClassParameters.SecretKind,
                               context: Context) throws(ProvisioningProblem) -> (namespace: String, name: String) {
        let namespace = try expand(template.namespace, context: context, allowNameOnly: false, what: "\(kind.rawValue) secret namespace")
        let name = try expand(template.name, context: context, allowNameOnly: true, what: "\(kind.rawValue) secret name")
        guard !namespace.isEmpty, !name.isEmpty else {
            throw ProvisioningProblem(.invalidStorageClass, "\(kind.rawValue) secret template \(template.namespace)/\(template.name) resolved to an empty name")
        }
        return (namespace, name)
    }

    static func expand(_ template: String, context: Context, allowNameOnly: Bool, what: String) throws(ProvisioningProblem) -> String {
        var out = ""
        var rest = Substring(template)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ProvisioningProblem(.invalidStorageClass, "\(what) template \(template) has an unterminated ${")
            }
            let variable = String(rest[start.upperBound..<end])
            switch variable {
            case "pv.name": out += context.pvName
            case "pvc.namespace": out += context.pvcNamespace
            case "pvc.name" where allowNameOnly: out += context.pvcName
            case _ where allowNameOnly && variable.hasPrefix("pvc.annotations['") && variable.hasSuffix("']"):
                let key = String(variable.dropFirst("pvc.annotations['".count).dropLast(2))
                out += context.pvcAnnotations[key] ?? ""
            default:
                throw ProvisioningProblem(.invalidStorageClass, "\(what) template \(template) uses ${\(variable)}, which is not allowed there")
            }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}
