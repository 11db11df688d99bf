import FerryControllers
import Kopia
import Kube
import Testing

/// The prime PVC, the credentials Secret and the populator pod, as built from the user's PVC.
struct PopulatorObjectsTests {
    static func claim(selectedNode: String? = nil) -> PersistentVolumeClaim {
        var c = PersistentVolumeClaim(name: "webapp-data", namespace: "staging")
        c.metadata.uid = "u-123"
        c.spec.accessModes = ["ReadWriteOnce"]
        c.spec.storageClassName = "fast"
        c.spec.volumeMode = "Filesystem"
        c.spec.resources.requests = ["storage": "10Gi"]
        var ref = TypedObjectReference()
        ref.apiGroup = "ferry.io"
        ref.kind = "KopiaSnapshot"
        ref.name = "webapp"
        ref.namespace = "production"
        c.spec.dataSourceRef = ref
        if let selectedNode { c.metadata.annotations = ["volume.kubernetes.io/selected-node": selectedNode] }
        return c
    }

    static let settings = PopulatorObjects.Settings(workNamespace: "ferry-system", image: "ghcr.io/ferry/ferry:1.0")

    @Test func thePrimeCopiesClassSizeModesAndSelectedNodeButNoDataSource() {
        let p = PopulatorObjects(claim: Self.claim(selectedNode: "node-2"), workNamespace: "ferry-system").prime()
        #expect(p.name == "ferry-prime-u-123")
        #expect(p.namespace == "ferry-system")
        #expect(p.spec.storageClassName == "fast")
        #expect(p.spec.accessModes == ["ReadWriteOnce"])
        #expect(p.spec.volumeMode == "Filesystem")
        #expect(p.spec.resources.requests == ["storage": "10Gi"])
        #expect(p.spec.dataSourceRef == nil && p.spec.dataSource == nil)
        #expect(p.metadata.annotations["volume.kubernetes.io/selected-node"] == "node-2")
        #expect(p.metadata.labels[PopulatingNames.ownerUIDLabel] == "u-123")
    }

    @Test func thePodGetsTheConfiguredResourcesAndNoneByDefault() throws {
        let objects = PopulatorObjects(claim: Self.claim(), workNamespace: "ferry-system")
        var settings = Self.settings
        let bare = objects.pod(settings: settings, snapshotID: "8acd6104", spec: KopiaSnapshotSpec(), sourceNamespace: "production", hasCA: false)
        #expect(try #require(bare.spec.containers.first).object["resources"] == nil)
        settings.resources = ["requests": ["cpu": "250m", "memory": "128Mi"], "limits": ["memory": "192Mi"]]
        let pod = objects.pod(settings: settings, snapshotID: "8acd6104", spec: KopiaSnapshotSpec(), sourceNamespace: "production", hasCA: false)
        #expect(try #require(pod.spec.containers.first).object["resources"]
            == .object(["requests": ["cpu": "250m", "memory": "128Mi"], "limits": ["memory": "192Mi"]]))
    }

    @Test func thePodCarriesNoCredentialsInArgsAndHasATightSecurityContext() throws {
        var spec = KopiaSnapshotSpec()
        spec.repository = "kopia-config"
        spec.verify = true
        let objects = PopulatorObjects(claim: Self.claim(selectedNode: "node-2"), workNamespace: "ferry-system")
        let pod = objects.pod(settings: Self.settings, snapshotID: "8acd6104", spec: spec, sourceNamespace: "production", hasCA: false)
        #expect(pod.name == "ferry-populate-u-123")
        #expect(pod.namespace == "ferry-system")
        #expect(pod.spec.restartPolicy == "Never")
        #expect(pod.spec.nodeName == "node-2")
        #expect(pod.spec.object["automountServiceAccountToken"] == .bool(false))
        let container = try #require(pod.spec.containers.first)
        let args: [String] = container["args"] ?? []
        #expect(args == ["populate", "--target", "/populate/data", "--progress-interval", "2.0", "--snapshot", "8acd6104", "--verify"])
        let envFrom: [JSONMap] = container["envFrom"] ?? []
        #expect(envFrom.first?.object["secretRef"] == .object(["name": "ferry-populate-u-123"]))
        #expect(container.object["env"] == nil)
        let security: JSONMap = container[view: "securityContext"]
        #expect(security.object["readOnlyRootFilesystem"] == .bool(true))
        #expect(security.object["allowPrivilegeEscalation"] == .bool(false))
        let caps: JSONMap = security[view: "capabilities"]
        #expect(caps.object["drop"] == .array(["ALL"]))
        #expect(caps.object["add"] == .array(["CHOWN", "FOWNER", "DAC_OVERRIDE", "FSETID"]))
        #expect(pod.spec.volumes.first?.object["persistentVolumeClaim"] == .object(["claimName": "ferry-prime-u-123"]))
    }

    @Test func aRepositoryOnAPVCIsMountedReadOnlyAndTheUnpinnedPodGetsTheSelection() throws {
        var spec = KopiaSnapshotSpec()
        spec.repository = "kopia-config"
        spec.repositoryPVC = "backups"
        spec.sourceIdentity.sourceName = "webapp-backup"
        spec.restoreAsOf = "2026-11-21T00:01:00Z"
        spec.previous = 1
        let objects = PopulatorObjects(claim: Self.claim(), workNamespace: "production")
        let pod = objects.pod(settings: Self.settings, snapshotID: nil, spec: spec, sourceNamespace: "production", hasCA: true)
        let args: [String] = try #require(pod.spec.containers.first)["args"] ?? []
        #expect(Array(args.dropFirst(5)) == ["--source-name", "webapp-backup", "--source-namespace", "production",
                                             "--as-of", "2026-11-21T00:01:00Z", "--previous", "1"])
        let names = pod.spec.volumes.compactMap { $0.object["name"]?.string }
        #expect(names == ["target", "repository", "ca", "tmp"])
        #expect(pod.spec.volumes[1].object["persistentVolumeClaim"] == .object(["claimName": "backups", "readOnly": true]))
    }

    @Test func theCredentialsSecretHoldsTheRepositoryKeysInTheWorkNamespaceOnly() throws {
        var secret = Secret(name: "kopia-config", namespace: "production")
        secret.stringData = ["KOPIA_REPOSITORY": "s3://b/p", "KOPIA_PASSWORD": "pw", "AWS_ACCESS_KEY_ID": "AK"]
        let c = try RepositoryCredentials(secret: secret)
        let s = PopulatorObjects(claim: Self.claim(), workNamespace: "ferry-system").credentials(c)
        #expect(s.namespace == "ferry-system")
        #expect(s.name == "ferry-populate-u-123")
        #expect(Set(s.decodedData.keys) == ["KOPIA_REPOSITORY", "KOPIA_PASSWORD", "AWS_ACCESS_KEY_ID"])
        #expect(s.decodedData["KOPIA_REPOSITORY"] == Array("s3://b/p/".utf8))
    }
}
