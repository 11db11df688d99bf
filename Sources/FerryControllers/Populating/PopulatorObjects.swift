public import Foundation
public import Kopia
public import Kube

/// The temporary objects of one population, built from the user's PVC (pure; kubernetes.md §2.1 with Ferry's
/// differences: Retain during the swap, credentials in a short-lived Secret, a tight pod security context).
public struct PopulatorObjects: Sendable {
    /// Where the work runs, the image of `ferry populate`, and what the pod may use.
    public struct Settings: Sendable, Hashable {
        public var workNamespace: String
        public var image: String
        public var imagePullPolicy: String?
        /// `ferry populate --progress-interval`.
        public var progressInterval: Double
        /// The container's `resources`: `requests`/`limits` → resource name → quantity (the chart's
        /// `populator.resources`); empty = none.
        public var resources: [String: [String: String]]
        public init(workNamespace: String, image: String, imagePullPolicy: String? = nil, progressInterval: Double = 2,
                    resources: [String: [String: String]] = [:]) {
            self.workNamespace = workNamespace
            self.image = image
            self.imagePullPolicy = imagePullPolicy
            self.progressInterval = progressInterval
            self.resources = resources
        }
    }

    public let claim: PersistentVolumeClaim
    public let uid: String
    public let workNamespace: String

    public init(claim: PersistentVolumeClaim, workNamespace: String) {
        self.claim = claim
        self.uid = claim.metadata.uid ?? ""
        self.workNamespace = workNamespace
    }

    public var primeName: String { PopulatingNames.primeClaim(forUID: uid) }
    public var podName: String { PopulatingNames.pod(forUID: uid) }
    public var credentialsName: String { PopulatingNames.credentials(forUID: uid) }

    var labels: [String: String] {
        [PopulatingNames.ownerUIDLabel: uid, "app.kubernetes.io/managed-by": "ferry"]
    }

    /// PVC′: same class, size, access modes and volumeMode, no data source; selected-node copied
    /// (WaitForFirstConsumer provisions it without a consumer pod, lib-volume-populator#177).
    public func prime() -> PersistentVolumeClaim {
        var p = PersistentVolumeClaim(name: primeName, namespace: workNamespace)
        p.metadata.labels = labels
        var annotations: [String: String] = [PopulatingNames.claimAnnotation: "\(claim.namespace ?? "")/\(claim.name)"]
        if let node = claim.metadata.annotations["volume.kubernetes.io/selected-node"] {
            annotations["volume.kubernetes.io/selected-node"] = node
        }
        p.metadata.annotations = annotations
        p.spec.accessModes = claim.spec.accessModes
        p.spec.storageClassName = claim.spec.storageClassName
        p.spec.volumeMode = claim.spec.volumeMode
        var resources = ResourceRequirements()
        if let storage = claim.spec.resources.requests["storage"] { resources.requests = ["storage": storage] }
        p.spec.resources = resources
        return p
    }

    /// The short-lived Secret the pod reads its repository environment from (and the CA, when set).
    /// - Parameter key: the key the password derived for the repository (the controller opened it), carried
    ///   instead of the password (``RepositoryCredentials/podSecretData(key:)``).
    public func credentials(_ c: RepositoryCredentials, key: RepositoryKey? = nil) -> Secret {
        var s = Secret(name: credentialsName, namespace: workNamespace)
        s.metadata.labels = labels
        s.type = "Opaque"
        s.data = c.podSecretData(key: key).mapValues { Data($0).base64EncodedString() }
        return s
    }

    /// The populator pod: `ferry populate` with the prime PVC mounted; credentials only through `envFrom` of the
    /// Secret (never in args); no service-account token; root with only the capabilities a restore needs
    /// (CHOWN, FOWNER, DAC_OVERRIDE, FSETID); read-only root filesystem.
    /// - Parameters:
    ///   - snapshotID: the pinned snapshot; nil when the pod resolves the spec itself (repository on a PVC).
    ///   - spec: the KopiaSnapshot's spec (selection flags when unpinned; repositoryPVC; verify).
    ///   - hasCA: mount `ca.crt` of the Secret.
    public func pod(settings: Settings, snapshotID: String?, spec: KopiaSnapshotSpec, sourceNamespace: String, hasCA: Bool) -> Pod {
        var pod = Pod(name: podName, namespace: workNamespace)
        pod.metadata.labels = labels
        pod.metadata.annotations = [PopulatingNames.claimAnnotation: "\(claim.namespace ?? "")/\(claim.name)"]
        var args = ["populate", "--target", PopulatingNames.targetMountPath,
                    "--progress-interval", String(settings.progressInterval)]
        if let snapshotID {
            args += ["--snapshot", snapshotID]
        } else {
            args += Self.selectionArguments(spec: spec, namespace: sourceNamespace)
        }
        if spec.verify == true { args.append("--verify") }
        var mounts: [JSONValue] = [["name": "target", "mountPath": .string(PopulatingNames.targetMountPath)]]
        var volumes: [JSONMap] = [JSONMap(object: ["name": "target", "persistentVolumeClaim": ["claimName": .string(primeName)]])]
        if let repo = spec.repositoryPVC {
            mounts.append(["name": "repository", "mountPath": .string(PopulatingNames.repositoryMountPath), "readOnly": true])
            volumes.append(JSONMap(object: ["name": "repository",
                                            "persistentVolumeClaim": ["claimName": .string(repo), "readOnly": true]]))
        }
        if hasCA {
            mounts.append(["name": "ca", "mountPath": .string(PopulatingNames.caMountPath), "readOnly": true])
            volumes.append(JSONMap(object: ["name": "ca", "secret": [
                "secretName": .string(credentialsName),
                "items": [["key": .string(PopulatingNames.caFileName), "path": .string(PopulatingNames.caFileName)]],
            ]]))
        }
        // A writable scratch directory (the root filesystem is read-only).
        mounts.append(["name": "tmp", "mountPath": "/tmp"])
        volumes.append(JSONMap(object: ["name": "tmp", "emptyDir": [:]]))
        var container: JSONObject = [
            "name": "populate",
            "image": .string(settings.image),
            "args": .array(args.map { .string($0) }),
            "envFrom": [["secretRef": ["name": .string(credentialsName)]]],
            "volumeMounts": .array(mounts),
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "securityContext": [
                "runAsUser": 0, "runAsNonRoot": false, "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false, "privileged": false,
                "capabilities": ["drop": ["ALL"], "add": ["CHOWN", "FOWNER", "DAC_OVERRIDE", "FSETID"]],
            ],
        ]
        if let policy = settings.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        if !settings.resources.isEmpty {
            container["resources"] = .object(settings.resources.mapValues { .object($0.mapValues { .string($0) }) })
        }
        pod.spec.containers = [JSONMap(object: container)]
        pod.spec.volumes = volumes
        pod.spec.restartPolicy = "Never"
        pod.spec.object["automountServiceAccountToken"] = false
        pod.spec.object["enableServiceLinks"] = false
        if let node = claim.metadata.annotations["volume.kubernetes.io/selected-node"] {
            // WaitForFirstConsumer: run where the volume will be used (upstream sets nodeName the same way).
            pod.spec.nodeName = node
        }
        return pod
    }

    /// `ferry populate` selection flags for an unpinned spec (the pod resolves and reports the ID).
    static func selectionArguments(spec: KopiaSnapshotSpec, namespace: String) -> [String] {
        var args: [String] = []
        if let id = spec.snapshotID, !id.isEmpty {
            return ["--snapshot", id]
        } else if let user = spec.username, let host = spec.hostname {
            args += ["--identity", "\(user)@\(host)" + (spec.path.map { ":\($0)" } ?? "")]
        } else if let name = spec.sourceIdentity.sourceName {
            args += ["--source-name", name, "--source-namespace", spec.sourceIdentity.sourceNamespace ?? namespace]
            if let path = spec.sourceIdentity.sourcePath { args += ["--source-path", path] }
        }
        if let asOf = spec.restoreAsOf { args += ["--as-of", asOf] }
        if let previous = spec.previous, previous > 0 { args += ["--previous", String(previous)] }
        return args
    }
}
