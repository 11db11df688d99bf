import E2ETestSupport
import Foundation
import Kube
import LocalCluster
import Testing

/// Validation and lifecycle rules kube-apiserver enforces (kubernetes.md §1.1, §1.2, §9.1, §9.6), asserted with
/// upstream's texts through the Kube client.
@Suite(.serialized) struct APIValidationTests {
    /// Runs `body`, expecting a KubeError with `status` whose message contains `text`.
    func expectFailure(status: Int, _ text: String, sourceLocation: SourceLocation = #_sourceLocation,
                       _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected HTTP \(status) containing \(text)", sourceLocation: sourceLocation)
        } catch let error as KubeError {
            #expect(error.status == status, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(text), "message: \(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    func claim(_ name: String, _ ns: String, storage: String = "1Gi") -> PersistentVolumeClaim {
        var pvc = PersistentVolumeClaim(name: name, namespace: ns)
        pvc.spec.accessModes = ["ReadWriteOnce"]
        pvc.spec.resources.requests = ["storage": storage]
        return pvc
    }

    func namespace(_ client: KubeClient, _ name: String) async throws {
        _ = try await client.create(Namespace(name: name))
    }

    @Test func gateOffDropsANamespacedDataSourceRefSilently() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-gate-off")
        var pvc = claim("xns", "val-gate-off")
        var spec = pvc.object["spec"]?.object ?? [:]
        spec["dataSourceRef"] = ["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap",
                                 "namespace": "production"]
        pvc.object["spec"] = .object(spec)
        let created = try await client.create(pvc)
        #expect(created.object["spec"]?.object?["dataSourceRef"] == nil)
        #expect(created.object["spec"]?.object?["dataSource"] == nil)
        // Without a namespace the reference is kept and copied into dataSource (NormalizeDataSources).
        var local = claim("local", "val-gate-off")
        spec = local.object["spec"]?.object ?? [:]
        spec["dataSourceRef"] = ["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap"]
        local.object["spec"] = .object(spec)
        let kept = try await client.create(local)
        #expect(kept.object["spec"]?.object?["dataSource"] == ["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap"])
        // A populator kind only in dataSource is dropped (EnforceDataSourceBackwardsCompatibility).
        var populator = claim("populator", "val-gate-off")
        spec = populator.object["spec"]?.object ?? [:]
        spec["dataSource"] = ["apiGroup": "ferry.io", "kind": "KopiaSnapshot", "name": "k"]
        populator.object["spec"] = .object(spec)
        let dropped = try await client.create(populator)
        #expect(dropped.object["spec"]?.object?["dataSource"] == nil && dropped.object["spec"]?.object?["dataSourceRef"] == nil)
        try await SharedCluster.dumpForSweep()
    }

    @Test func gateOnKeepsTheNamespacedReferenceAndRejectsItBesideDataSource() async throws {
        let dir = try TemporaryDirectory()
        let cluster = try await LocalClusterInstance.start(
            options: LocalClusterOptions(directory: dir.url, crossNamespaceVolumeDataSource: true), components: [])
        defer { Task { await cluster.stop() } }
        let client = try cluster.makeClient()
        var pvc = claim("xns", "default")
        var spec = pvc.object["spec"]?.object ?? [:]
        let ref: JSONValue = ["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap", "namespace": "production"]
        spec["dataSourceRef"] = ref
        pvc.object["spec"] = .object(spec)
        let created = try await client.create(pvc)
        #expect(created.object["spec"]?.object?["dataSourceRef"] == ref)
        #expect(created.object["spec"]?.object?["dataSource"] == nil)
        spec["dataSource"] = ["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "snap"]
        var both = claim("both", "default")
        both.object["spec"] = .object(spec.merging(both.object["spec"]?.object ?? [:]) { a, _ in a })
        await expectFailure(status: 422, "spec.dataSource: Invalid value: ") { _ = try await client.create(both) }
        await expectFailure(status: 422, "may not be specified when dataSourceRef.namespace is specified") { _ = try await client.create(both) }
        var core = claim("core", "default")
        spec = core.object["spec"]?.object ?? [:]
        spec["dataSourceRef"] = ["kind": "VolumeSnapshot", "name": "snap"]
        core.object["spec"] = .object(spec)
        await expectFailure(status: 422, "spec.dataSourceRef.kind: Invalid value: \"VolumeSnapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup") {
            _ = try await client.create(core)
        }
        await cluster.stop()
    }

    @Test func claimSpecIsImmutableExceptTheRequestsOfABoundClaim() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-pvc")
        var pvc = try await client.create(claim("c", "val-pvc"))
        #expect(pvc.status.phase == "Pending")
        #expect(pvc.metadata.finalizers == ["kubernetes.io/pvc-protection"])
        pvc.spec.storageClassName = "other"
        _ = try await client.update(pvc)  // from nil: allowed
        pvc = try await client.get(PersistentVolumeClaim.self, name: "c", namespace: "val-pvc")
        pvc.spec.storageClassName = "third"
        await expectFailure(status: 422, "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims") {
            _ = try await client.update(pvc)
        }
        pvc = try await client.get(PersistentVolumeClaim.self, name: "c", namespace: "val-pvc")
        pvc.spec.resources.requests = ["storage": "2Gi"]
        await expectFailure(status: 422, "spec is immutable after creation") { _ = try await client.update(pvc) }
        pvc = try await client.get(PersistentVolumeClaim.self, name: "c", namespace: "val-pvc")
        pvc.object["status"] = ["phase": "Bound", "capacity": ["storage": "1Gi"]]
        pvc = try await client.updateStatus(pvc)
        pvc.spec.resources.requests = ["storage": "2Gi"]
        pvc = try await client.update(pvc)
        #expect(pvc.spec.resources.requests["storage"] == "2Gi")
        pvc.spec.resources.requests = ["storage": "1Gi"]
        await expectFailure(status: 422, "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity") {
            _ = try await client.update(pvc)
        }
        try await SharedCluster.dumpForSweep()
    }

    @Test func namesLabelsAndGenerateNameFollowTheAPIRules() async throws {
        let client = try await SharedCluster.get().makeClient()
        await expectFailure(status: 422, "metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')") {
            _ = try await client.create(claim("Bad_Name", "default"))
        }
        await expectFailure(status: 422, "a lowercase RFC 1123 label must consist of") {
            _ = try await client.create(Namespace(name: "has.dot"))
        }
        var labelled = claim("labelled", "default")
        labelled.metadata.labels = ["tier": "not ok!"]
        await expectFailure(status: 422, "metadata.labels: Invalid value: \"not ok!\": a valid label must be an empty string or consist of alphanumeric characters") {
            _ = try await client.create(labelled)
        }
        var generated = claim("", "default")
        generated.metadata.name = nil
        generated.metadata.generateName = "data-"
        let made = try await client.create(generated)
        #expect(made.name.hasPrefix("data-") && made.name.count == 10)
        var anonymous = claim("", "default")
        anonymous.metadata.name = nil
        await expectFailure(status: 422, "name or generateName is required") { _ = try await client.create(anonymous) }
        try await SharedCluster.dumpForSweep()
    }

    @Test func volumeSourceIsImmutableAndClaimRefIsNot() async throws {
        let client = try await SharedCluster.get().makeClient()
        var pv = PersistentVolume(name: "val-pv")
        pv.spec.capacity = ["storage": "1Gi"]
        pv.spec.accessModes = ["ReadWriteOnce"]
        pv.spec.csi = CSIPersistentVolumeSource(object: ["driver": "local.csi.ferry.io", "volumeHandle": "h1"])
        pv = try await client.create(pv)
        #expect(pv.status.phase == "Pending")
        #expect(pv.spec.persistentVolumeReclaimPolicy == "Retain")
        pv.spec.claimRef = ObjectReference(kind: "PersistentVolumeClaim", namespace: "default", name: "c", uid: "u")
        pv = try await client.update(pv)
        pv.spec.csi = CSIPersistentVolumeSource(object: ["driver": "local.csi.ferry.io", "volumeHandle": "h2"])
        await expectFailure(status: 422, "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation") {
            _ = try await client.update(pv)
        }
        try await SharedCluster.dumpForSweep()
    }

    @Test func podSpecIsImmutableExceptImagesAndBindingSetsTheNode() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-pod")
        var pod = Pod(name: "p", namespace: "val-pod")
        pod.object["spec"] = ["containers": [["name": "c", "image": "busybox:1.36", "command": ["true"]]]]
        pod = try await client.create(pod)
        #expect(pod.object["spec"]?.object?["restartPolicy"] == "Always")
        var changed = pod
        var podSpec = pod.object["spec"]?.object ?? [:]
        var container = podSpec["containers"]?.array?.first?.object ?? [:]
        container["image"] = "busybox:1.37"
        podSpec["containers"] = [.object(container)]
        changed.object["spec"] = .object(podSpec)
        pod = try await client.update(changed)
        #expect(pod.object["spec"]?.object?["containers"]?.array?.first?.object?["image"] == "busybox:1.37")
        var bad = pod
        var spec = bad.object["spec"]?.object ?? [:]
        spec["restartPolicy"] = "Never"
        bad.object["spec"] = .object(spec)
        await expectFailure(status: 422, "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`") {
            _ = try await client.update(bad)
        }
        try await SharedCluster.dumpForSweep()
    }

    @Test func finalizersHoldDeletionAndNoNewOnesMayBeAdded() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-fin")
        var cm = ConfigMap(name: "held", namespace: "val-fin")
        cm.metadata.finalizers = ["example.com/hold"]
        _ = try await client.create(cm)
        try await client.delete(ConfigMap.self, name: "held", namespace: "val-fin")
        var held = try await client.get(ConfigMap.self, name: "held", namespace: "val-fin")
        #expect(held.metadata.deletionTimestamp != nil)
        held.metadata.finalizers = ["example.com/hold", "example.com/more"]
        await expectFailure(status: 422, "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/more\"}") {
            _ = try await client.update(held)
        }
        held.metadata.finalizers = []
        _ = try await client.update(held)
        await expectFailure(status: 404, "not found") { _ = try await client.get(ConfigMap.self, name: "held", namespace: "val-fin") }
    }

    @Test func staleWritesAndDeletePreconditionsConflict() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-rv")
        let first = try await client.create(claim("c", "val-rv"))
        var newer = first
        newer.metadata.labels = ["a": "b"]
        _ = try await client.update(newer)
        var stale = first
        stale.metadata.labels = ["a": "c"]
        await expectFailure(status: 409, "Operation cannot be fulfilled on persistentvolumeclaims \"c\": the object has been modified; please apply your changes to the latest version and try again") {
            _ = try await client.update(stale)
        }
        await expectFailure(status: 409, "Operation cannot be fulfilled on PersistentVolumeClaim \"c\": the UID in the precondition (wrong) does not match the UID in record") {
            try await client.delete(PersistentVolumeClaim.self, name: "c", namespace: "val-rv",
                                    options: DeleteOptions(preconditionUID: "wrong"))
        }
        try await SharedCluster.dumpForSweep()
    }

    @Test func namespaceDeletionWaitsForItsContents() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-ns")
        var cm = ConfigMap(name: "held", namespace: "val-ns")
        cm.metadata.finalizers = ["example.com/hold"]
        _ = try await client.create(cm)
        _ = try await client.create(ConfigMap(name: "free", namespace: "val-ns"))
        try await client.delete(Namespace.self, name: "val-ns")
        let terminating = try await client.get(Namespace.self, name: "val-ns")
        #expect(terminating.object["status"]?.object?["phase"] == "Terminating")
        await expectFailure(status: 403, "configmaps \"new\" is forbidden: unable to create new content in namespace val-ns because it is being terminated") {
            _ = try await client.create(ConfigMap(name: "new", namespace: "val-ns"))
        }
        await expectFailure(status: 409, "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.") {
            try await client.delete(Namespace.self, name: "val-ns")
        }
        #expect(try await eventually { (try? await client.get(ConfigMap.self, name: "free", namespace: "val-ns")) == nil })
        #expect((try? await client.get(Namespace.self, name: "val-ns")) != nil)
        var held = try await client.get(ConfigMap.self, name: "held", namespace: "val-ns")
        held.metadata.finalizers = []
        _ = try await client.update(held)
        #expect(try await eventually { (try? await client.get(Namespace.self, name: "val-ns")) == nil })
    }

    @Test func garbageCollectorDeletesDependentsOfNamespacedAndClusterScopedOwners() async throws {
        let client = try await SharedCluster.get().makeClient()
        try await namespace(client, "val-gc")
        let owner = try await client.create(ConfigMap(name: "owner", namespace: "val-gc"))
        var dependent = ConfigMap(name: "dependent", namespace: "val-gc")
        dependent.metadata.object["ownerReferences"] = [["apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                                                          "uid": .string(owner.metadata.uid ?? "")]]
        _ = try await client.create(dependent)
        var sc = StorageClass(name: "val-gc-class")
        sc.object["provisioner"] = "local.csi.ferry.io"
        let clusterOwner = try await client.create(sc)
        var byClass = ConfigMap(name: "by-class", namespace: "val-gc")
        byClass.metadata.object["ownerReferences"] = [["apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                                        "name": "val-gc-class", "uid": .string(clusterOwner.metadata.uid ?? "")]]
        _ = try await client.create(byClass)
        try await Task.sleep(for: .milliseconds(300))
        #expect((try? await client.get(ConfigMap.self, name: "dependent", namespace: "val-gc")) != nil)
        try await client.delete(ConfigMap.self, name: "owner", namespace: "val-gc")
        try await client.delete(StorageClass.self, name: "val-gc-class")
        #expect(try await eventually { (try? await client.get(ConfigMap.self, name: "dependent", namespace: "val-gc")) == nil })
        #expect(try await eventually { (try? await client.get(ConfigMap.self, name: "by-class", namespace: "val-gc")) == nil })
    }
}

