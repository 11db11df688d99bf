public import Kube

/// Does the API server keep a namespaced `dataSourceRef`? With `CrossNamespaceVolumeDataSource` off it silently
/// drops the whole field and the claim is provisioned empty (kubernetes.md §1.1). Ferry asks with a dry-run create
/// (nothing is stored) and reads what came back.
public enum GateProbe {
    public enum Result: Sendable, Hashable {
        /// The namespaced `dataSourceRef` survived: the gate is on.
        case kept
        /// It was dropped: the gate is off; use a DataSourceLink.
        case dropped
        /// The probe itself failed (RBAC, validation); the message says why.
        case unknown(String)

        /// One line for `ferry kube check` and the controller's startup.
        public var line: String {
            switch self {
            case .kept:
                "API server keeps a namespaced dataSourceRef (CrossNamespaceVolumeDataSource is on): native cross-namespace references work"
            case .dropped:
                "API server DROPS a namespaced dataSourceRef (CrossNamespaceVolumeDataSource is off): such claims would be provisioned empty; use a ferry.io/DataSourceLink in the claim's namespace instead"
            case .unknown(let why):
                "could not tell whether the API server keeps a namespaced dataSourceRef: \(why)"
            }
        }
    }

    /// The claim sent with `dryRun=All`.
    public static func probeClaim(namespace: String, sourceNamespace: String) -> PersistentVolumeClaim {
        var claim = PersistentVolumeClaim(name: "ferry-gate-probe", namespace: namespace)
        claim.spec.accessModes = ["ReadWriteOnce"]
        claim.spec.resources.requests = ["storage": "1Mi"]
        var ref = TypedObjectReference()
        ref.apiGroup = "snapshot.storage.k8s.io"
        ref.kind = "VolumeSnapshot"
        ref.name = "ferry-gate-probe"
        ref.namespace = sourceNamespace
        claim.spec.dataSourceRef = ref
        return claim
    }

    /// Reads the server's answer (pure).
    public static func interpret(returned: PersistentVolumeClaim, sourceNamespace: String) -> Result {
        guard let ref = returned.spec.dataSourceRef else { return .dropped }
        return ref.namespace == sourceNamespace ? .kept : .dropped
    }

    /// Runs the probe: a dry-run create in `namespace` referring to `sourceNamespace`.
    public static func run(client: KubeClient, namespace: String, sourceNamespace: String = "ferry-gate-probe-source") async -> Result {
        let other = sourceNamespace == namespace ? sourceNamespace + "-x" : sourceNamespace
        do {
            let answer = try await client.create(probeClaim(namespace: namespace, sourceNamespace: other),
                                                 options: WriteOptions(dryRun: true, fieldManager: "ferry-gate-probe"))
            return interpret(returned: answer, sourceNamespace: other)
        } catch {
            return .unknown("\(error.code): \(error.message)")
        }
    }
}
