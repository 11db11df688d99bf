import Foundation
import Kopia
import Kube

extension KopiaPopulator {
    /// Performs the actions in order; the first failure stops the rest (the next reconcile observes again).
    /// Creating what exists and deleting what is gone count as done.
    func perform(_ actions: [PopulateAction], observed: Observed, context: ReconcileContext) async throws {
        let claim = observed.claim
        let objects = observed.objects
        let work = objects.workNamespace
        for action in actions {
            switch action {
            case .pinSnapshot(let id, let reason):
                _ = try await context.kube.patch(PersistentVolumeClaim.self, name: claim.name, namespace: claim.namespace, mergePatch: [
                    "metadata": ["annotations": [
                        .init(PopulatingNames.pinnedSnapshotAnnotation): .string(id),
                        .init(PopulatingNames.pinnedReasonAnnotation): .string(reason),
                    ]],
                ])
                if case .deferredToPod = observed.observation.resolution, let ks = observed.kopiaSnapshot,
                   let report = observed.observation.pod?.report, report.snapshotID == id {
                    // The pod resolved (repository on a PVC): its choice becomes the KopiaSnapshot's last known one.
                    await writeStatus(ks, KopiaSnapshotConditions.resolvedByPopulator(
                        pvc: ks.spec.repositoryPVC ?? "", namespace: ks.namespace ?? "", pvcPhase: "Bound",
                        requestedIdentity: ks.status.requestedIdentity, repository: observed.credentials?.location,
                        generation: ks.metadata.generation, now: context.timestamp(),
                        previous: KopiaSnapshotConditions.withPopulatorReport(report, previous: ks.status)), context: context)
                }
            case .addFinalizer, .removeFinalizer:
                var fresh = try await context.kube.get(PersistentVolumeClaim.self, name: claim.name, namespace: claim.namespace)
                var finalizers = fresh.metadata.finalizers.filter { $0 != PopulatingNames.finalizer }
                if action == .addFinalizer {
                    guard fresh.metadata.deletionTimestamp == nil else { continue }
                    finalizers.append(PopulatingNames.finalizer)
                }
                guard finalizers != fresh.metadata.finalizers else { continue }
                fresh.metadata.finalizers = finalizers
                _ = try await context.kube.update(fresh)
            case .createPrime:
                try await createIfAbsent(objects.prime(), context)
            case .createCredentials:
                guard let credentials = observed.credentials else {
                    throw PopulatingError(.internalError, "no repository credentials to hand to the populator pod")
                }
                try await createIfAbsent(objects.credentials(credentials, key: observed.repositoryKey), context)
            case .createPod(let snapshotID):
                guard let ks = observed.kopiaSnapshot else { continue }
                let pod = objects.pod(settings: settings, snapshotID: snapshotID, spec: ks.spec,
                                      sourceNamespace: ks.namespace ?? "", hasCA: observed.credentials?.caBundle != nil)
                try await createIfAbsent(pod, context)
            case .deletePod:
                try await deleteIfPresent(Pod.self, objects.podName, work, context)
            case .deleteCredentials:
                try await deleteIfPresent(Secret.self, objects.credentialsName, work, context)
            case .deletePrime:
                try await deleteIfPresent(PersistentVolumeClaim.self, objects.primeName, work, context)
            case .recordFailure(let count):
                _ = try await context.kube.patch(PersistentVolumeClaim.self, name: objects.primeName, namespace: work, mergePatch: [
                    "metadata": ["annotations": [
                        .init(PopulatingNames.failuresAnnotation): .string(String(count)),
                        .init(PopulatingNames.lastFailureAnnotation): .string(context.timestamp()),
                    ]],
                ])
            case .holdReclaim(let volume, let original):
                _ = try await context.kube.patch(PersistentVolume.self, name: volume, namespace: nil, mergePatch: [
                    "metadata": ["annotations": [.init(PopulatingNames.heldReclaimAnnotation): .string(original)]],
                    "spec": ["persistentVolumeReclaimPolicy": "Retain"],
                ])
            case .restoreReclaim(let volume, let policy):
                _ = try await context.kube.patch(PersistentVolume.self, name: volume, namespace: nil, mergePatch: [
                    "metadata": ["annotations": [.init(PopulatingNames.heldReclaimAnnotation): .null]],
                    "spec": ["persistentVolumeReclaimPolicy": .string(policy)],
                ])
            case .rebind(let volume):
                _ = try await context.kube.patch(PersistentVolume.self, name: volume, namespace: nil, mergePatch: [
                    "metadata": ["annotations": .object(provenance(observed))],
                    "spec": ["claimRef": [
                        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "namespace": .string(claim.namespace ?? ""), "name": .string(claim.name),
                        "uid": .string(claim.metadata.uid ?? ""), "resourceVersion": .null,
                    ]],
                ])
            case .event(let e):
                await context.feedback.report(claim.reference, type: e.warning ? .warning : .normal, reason: e.reason,
                                              message: e.message)
            }
        }
    }

    /// The PV's provenance: KopiaSnapshot, repository (no credentials), snapshot, identity, grant, claim.
    func provenance(_ observed: Observed) -> JSONObject {
        let ref = observed.source.request.source
        var a: JSONObject = [
            PopulatingNames.provenanceSource: .string("\(ref.namespace)/\(ref.name)"),
            PopulatingNames.provenanceClaim: .string("\(observed.claim.namespace ?? "")/\(observed.claim.name)"),
        ]
        if let location = observed.credentials?.location { a[PopulatingNames.provenanceRepository] = .string(location.description) }
        let id = observed.observation.claim.pinnedSnapshotID ?? observed.observation.pod?.report?.snapshotID
        if let id { a[PopulatingNames.provenanceSnapshot] = .string(id) }
        if let identity = observed.snapshot?.identity ?? observed.observation.pod?.report?.identity {
            a[PopulatingNames.provenanceIdentity] = .string(identity)
        }
        if let grant = observed.source.authority.grantName { a[PopulatingNames.provenanceGrant] = .string("\(ref.namespace)/\(grant)") }
        if let link = observed.source.link { a["ferry.io/link"] = .string(link) }
        return a
    }

    func createIfAbsent<T: KubeResource>(_ object: T, _ context: ReconcileContext) async throws {
        do { _ = try await context.kube.create(object) } catch {
            if error.code != .alreadyExists { throw error }
        }
    }

    func deleteIfPresent<T: KubeResource>(_ type: T.Type, _ name: String, _ namespace: String, _ context: ReconcileContext) async throws {
        do { try await context.kube.delete(type, name: name, namespace: namespace) } catch {
            if error.code != .notFound { throw error }
        }
    }
}
