import CurlHTTP
import Foundation
import Kube
import KubeTestSupport
import HTTPTestSupport
import Testing

struct KubeClientVerbTests {
    @Test func createGetAndServerFields() async throws {
        let f = try Fixture()
        let created = try await f.client.create(Fixture.pvc("data", "default"))
        #expect(created.metadata.uid?.isEmpty == false)
        #expect(created.metadata.creationTimestamp != nil)
        #expect(created.metadata.resourceVersion != nil)
        let got = try await f.client.get(PersistentVolumeClaim.self, name: "data", namespace: "default")
        #expect(got.spec.resources.requests["storage"] == "1Gi")
        #expect(got.metadata.uid == created.metadata.uid)
    }

    @Test func unknownFieldsSurviveReadModifyWrite() async throws {
        let f = try Fixture()
        var p = Fixture.pvc("keep", "default")
        p.spec.object["futureField"] = ["nested": [1, 2, 3], "flag": true]
        p.object["topLevelExtra"] = "x"
        _ = try await f.client.create(p)
        var got = try await f.client.get(PersistentVolumeClaim.self, name: "keep", namespace: "default")
        got.metadata.labels["touched"] = "yes"
        let updated = try await f.client.update(got)
        #expect(updated.spec.object["futureField"] == ["nested": [1, 2, 3], "flag": true])
        #expect(updated.object["topLevelExtra"] == "x")
        #expect(updated.metadata.labels["touched"] == "yes")
    }

    @Test func generateNameCreatesDistinctNames() async throws {
        let f = try Fixture()
        var p = Fixture.pvc("", "default")
        p.metadata.name = nil
        p.metadata.generateName = "restore-"
        let a = try await f.client.create(p)
        let b = try await f.client.create(p)
        #expect(a.name.hasPrefix("restore-") && a.name.count == "restore-".count + 5)
        #expect(a.name != b.name)
    }

    @Test func staleUpdateIsAConflict() async throws {
        let f = try Fixture()
        let v1 = try await f.client.create(Fixture.pvc("c", "default"))
        var first = v1
        first.metadata.labels["a"] = "1"
        _ = try await f.client.update(first)
        var stale = v1
        stale.metadata.labels["b"] = "2"
        let error = await #expect(throws: KubeError.self) { _ = try await f.client.update(stale) }
        #expect(error?.code == .conflict)
        #expect(error?.status == 409)
        #expect(error?.retry == .transient)
    }

    @Test func typedErrors() async throws {
        let f = try Fixture()
        let missing = await #expect(throws: KubeError.self) {
            _ = try await f.client.get(PersistentVolumeClaim.self, name: "nope", namespace: "default")
        }
        #expect(missing?.code == .notFound)
        _ = try await f.client.create(Fixture.pvc("dup", "default"))
        let dup = await #expect(throws: KubeError.self) { _ = try await f.client.create(Fixture.pvc("dup", "default")) }
        #expect(dup?.code == .alreadyExists)
        let invalid = await #expect(throws: KubeError.self) { _ = try await f.client.create(Fixture.pvc("Bad_Name", "default")) }
        #expect(invalid?.code == .invalid)
        #expect(invalid?.causes.first?.field == "metadata.name")
        let noNamespace = await #expect(throws: KubeError.self) { _ = try await f.client.create(Fixture.pvc("x", "ghost")) }
        #expect(noNamespace?.code == .notFound)
        let badField = await #expect(throws: KubeError.self) {
            _ = try await f.client.list(PersistentVolumeClaim.self, namespace: "default",
                                        options: ListOptions(fieldSelector: "spec.storageClassName=fast"))
        }
        #expect(badField?.code == .badRequest)
    }

    @Test func forbiddenCarriesTheRBACReason() async throws {
        let f = try Fixture()
        f.server.deny(.init(user: "admin", verb: "list", resource: "secrets", namespace: "default"))
        let error = await #expect(throws: KubeError.self) { _ = try await f.client.list(Secret.self, namespace: "default") }
        #expect(error?.code == .forbidden)
        #expect(error?.message.contains("cannot list resource \"secrets\"") == true)
        _ = try await f.client.list(Secret.self, namespace: "kube-system")  // other namespaces still allowed
    }

    @Test func unauthenticatedIsUnauthorized() async throws {
        let f = try Fixture()
        let anon = try Fixture.client(for: f.server, credentials: .bearerToken("wrong"))
        let error = await #expect(throws: KubeError.self) { _ = try await anon.serverVersion() }
        #expect(error?.code == .unauthorized)
    }

    @Test func throttlingCarriesRetryAfter() async throws {
        let f = try Fixture()
        f.server.throttleNext(1, retryAfter: 7)
        let error = await #expect(throws: KubeError.self) { _ = try await f.client.list(Pod.self, namespace: "default") }
        #expect(error?.code == .tooManyRequests)
        #expect(error?.retryAfter == .seconds(7))
    }

    @Test func selectorsAndPagination() async throws {
        let f = try Fixture()
        for i in 0..<25 {
            _ = try await f.client.create(Fixture.pvc("p\(i)", "default", labels: ["tier": i % 2 == 0 ? "even" : "odd", "n": "\(i)"]))
        }
        let even = try await f.client.list(PersistentVolumeClaim.self, namespace: "default",
                                           options: ListOptions(labelSelector: "tier=even"))
        #expect(even.items.count == 13)
        let set = try await f.client.list(PersistentVolumeClaim.self, namespace: "default",
                                          options: ListOptions(labelSelector: "tier!=even,n in (1,3,4)"))
        #expect(Set(set.items.map(\.name)) == ["p1", "p3"])
        let byName = try await f.client.list(PersistentVolumeClaim.self, namespace: "default",
                                             options: ListOptions(fieldSelector: "metadata.name=p7"))
        #expect(byName.items.map(\.name) == ["p7"])
        let page = try await f.client.list(PersistentVolumeClaim.self, namespace: "default", options: ListOptions(limit: 10))
        #expect(page.items.count == 10 && page.continueToken != nil && page.remainingItemCount == 15)
        let all = try await f.client.listAll(PersistentVolumeClaim.self, namespace: "default", options: ListOptions(limit: 10))
        #expect(Set(all.items.map(\.name)).count == 25)
        #expect(all.items.allSatisfy { $0.kind == "PersistentVolumeClaim" })
        f.server.compact()
        let expired = await #expect(throws: KubeError.self) {
            _ = try await f.client.list(PersistentVolumeClaim.self, namespace: "default",
                                        options: ListOptions(limit: 10, continueToken: page.continueToken))
        }
        #expect(expired?.code == .gone)
    }

    @Test func mergePatchAndConditionalPatch() async throws {
        let f = try Fixture()
        let p = try await f.client.create(Fixture.pvc("m", "default", labels: ["a": "1", "b": "2"]))
        let patched = try await f.client.patch(PersistentVolumeClaim.self, name: "m", namespace: "default",
                                               mergePatch: ["metadata": ["labels": ["a": nil, "c": "3"]]])
        #expect(patched.metadata.labels == ["b": "2", "c": "3"])
        let error = await #expect(throws: KubeError.self) {
            _ = try await f.client.patch(PersistentVolumeClaim.self, name: "m", namespace: "default",
                                         mergePatch: ["metadata": ["resourceVersion": .string(p.metadata.resourceVersion ?? ""),
                                                                   "labels": ["d": "4"]]])
        }
        #expect(error?.code == .conflict)
    }

    @Test func serverSideApplyOwnsFieldsAndConflicts() async throws {
        let f = try Fixture()
        var desired = KopiaSnapshot(name: "web", namespace: "default")
        desired.spec.repository = "kopia-config"
        desired.spec.sourceIdentity.sourceName = "webapp"
        let created = try await f.client.apply(desired, fieldManager: "ferry")
        #expect(created.spec.repository == "kopia-config")
        _ = try await f.client.patch(KopiaSnapshot.self, name: "web", namespace: "default",
                                     mergePatch: ["spec": ["repository": "other"]], options: WriteOptions(fieldManager: "kubectl"))
        desired.spec.repository = "kopia-config-2"
        let conflict = await #expect(throws: KubeError.self) { _ = try await f.client.apply(desired, fieldManager: "ferry") }
        #expect(conflict?.code == .conflict)
        #expect(conflict?.message.contains("kubectl") == true)
        let forced = try await f.client.apply(desired, fieldManager: "ferry", force: true)
        #expect(forced.spec.repository == "kopia-config-2")
        // Dropping a field from the applied config removes it (this manager owned it alone).
        var smaller = KopiaSnapshot(name: "web", namespace: "default")
        smaller.spec.repository = "kopia-config-2"
        let shrunk = try await f.client.apply(smaller, fieldManager: "ferry")
        #expect(shrunk.spec.sourceIdentity.sourceName == nil)
    }

    @Test func statusSubresourceSeparatesSpecAndStatus() async throws {
        let f = try Fixture()
        var p = try await f.client.create(Fixture.pvc("s", "default"))
        p.status.phase = "Bound"
        p.spec.volumeName = "ignored-by-status"
        let afterStatus = try await f.client.updateStatus(p)
        #expect(afterStatus.status.phase == "Bound")
        #expect(afterStatus.spec.volumeName == nil)
        var q = afterStatus
        q.status.phase = "Lost"
        q.metadata.labels["x"] = "y"
        let afterMain = try await f.client.update(q)
        #expect(afterMain.status.phase == "Bound")
        #expect(afterMain.metadata.labels["x"] == "y")
        let patched = try await f.client.patch(PersistentVolumeClaim.self, name: "s", namespace: "default",
                                               mergePatch: ["status": ["phase": "Pending"]], subresource: "status")
        #expect(patched.status.phase == "Pending")
    }

    @Test func finalizersHoldDeletionUntilRemoved() async throws {
        let f = try Fixture()
        var p = Fixture.pvc("fin", "default")
        p.metadata.finalizers = ["ferry.io/protect"]
        _ = try await f.client.create(p)
        let result = try await f.client.delete(PersistentVolumeClaim.self, name: "fin", namespace: "default")
        guard case .pending(let pending) = result else { Issue.record("expected pending"); return }
        #expect(pending.metadata.deletionTimestamp != nil)
        var adding = pending
        adding.metadata.finalizers.append("other")
        let forbidden = await #expect(throws: KubeError.self) { _ = try await f.client.update(adding) }
        #expect(forbidden?.code == .invalid)
        var clearing = pending
        clearing.metadata.finalizers = []
        _ = try await f.client.update(clearing)
        let gone = await #expect(throws: KubeError.self) {
            _ = try await f.client.get(PersistentVolumeClaim.self, name: "fin", namespace: "default")
        }
        #expect(gone?.code == .notFound)
    }

    @Test func deletePreconditionsAndPolicy() async throws {
        let f = try Fixture()
        let p = try await f.client.create(Fixture.pvc("d", "default"))
        let wrongUID = await #expect(throws: KubeError.self) {
            try await f.client.delete(PersistentVolumeClaim.self, name: "d", namespace: "default",
                                      options: DeleteOptions(preconditionUID: "not-the-uid"))
        }
        #expect(wrongUID?.code == .conflict)
        let result = try await f.client.delete(PersistentVolumeClaim.self, name: "d", namespace: "default",
                                               options: DeleteOptions(preconditionUID: p.metadata.uid,
                                                                      preconditionResourceVersion: p.metadata.resourceVersion,
                                                                      propagationPolicy: .foreground))
        guard case .deleted = result else { Issue.record("expected deleted"); return }
        #expect(f.server.count(PersistentVolumeClaim.resourceType) == 0)
    }

    @Test func dryRunPersistsNothing() async throws {
        let f = try Fixture()
        let dry = try await f.client.create(Fixture.pvc("dry", "default"), options: WriteOptions(dryRun: true))
        #expect(dry.name == "dry")
        #expect(f.server.count(PersistentVolumeClaim.resourceType) == 0)
        _ = try await f.client.create(Fixture.pvc("real", "default"))
        try await f.client.delete(PersistentVolumeClaim.self, name: "real", namespace: "default", options: DeleteOptions(dryRun: true))
        #expect(f.server.count(PersistentVolumeClaim.resourceType) == 1)
    }

    @Test func clusterScopedAndCustomKinds() async throws {
        let f = try Fixture()
        var pv = PersistentVolume(name: "pv-1")
        pv.spec.csi = CSIPersistentVolumeSource(object: ["driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"])
        pv.spec.claimRef = ObjectReference(kind: "PersistentVolumeClaim", namespace: "default", name: "c", uid: "u")
        pv.spec.capacity = ["storage": "1Gi"]  // the API server validates PVs as kube-apiserver does
        pv.spec.accessModes = ["ReadWriteOnce"]
        _ = try await f.client.create(pv)
        #expect(try await f.client.get(PersistentVolume.self, name: "pv-1").spec.csi?.driver == "ebs.csi.aws.com")
        var grant = ReferenceGrant(name: "g", namespace: "default")
        grant.spec.from = [ReferenceGrantFrom(object: ["group": "", "kind": "PersistentVolumeClaim", "namespace": "staging"])]
        grant.spec.to = [ReferenceGrantTo(object: ["group": "ferry.io", "kind": "KopiaSnapshot"])]
        _ = try await f.client.create(grant)
        // v1 and v1beta1 are two views of one stored object.
        let v1 = try await f.client.get(ReferenceGrantV1.self, name: "g", namespace: "default")
        #expect(v1.apiVersion == "gateway.networking.k8s.io/v1")
        #expect(v1.spec.to.first?.kind == "KopiaSnapshot")
        var link = DataSourceLink(name: "l", namespace: "default")
        link.spec.sourceRef = TypedObjectReference(object: ["apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                                                            "namespace": "production", "name": "snap"])
        _ = try await f.client.create(link)
    }

    @Test func customKindsNeedTheirCRD() async throws {
        let f = try Fixture(installCRDs: false)
        let error = await #expect(throws: KubeError.self) {
            _ = try await f.client.list(VolumeSnapshot.self, namespace: "default")
        }
        #expect(error?.code == .notFound)
    }

    @Test func tlsFailuresAreTransportErrors() async throws {
        let f = try Fixture()
        let bad = try Fixture.client(for: f.server, credentials: .bearerToken(Fixture.token),
                                     tls: TLSOptions(certificateAuthority: .file(f.server.certificates.otherCACertificate)))
        let error = await #expect(throws: KubeError.self) { _ = try await bad.serverVersion() }
        #expect(error?.code == .transport)
        #expect(error?.transport?.code == .tls)
    }
}
