import Logging
public import CSI
public import GRPCTransport
public import Kube
import Foundation

/// Provisions a claim from a VolumeSnapshot or PersistentVolumeClaim in any namespace through the driver's
/// `CreateVolume` (kubernetes.md §1.5–§1.9): observe → ``ProvisioningStep/decide(_:)`` → act, until a step waits
/// or finishes.
///
/// Idempotent and restart-safe: the volume is named `pvc-<claim UID>` (the driver returns the same volume again),
/// the PV has that name too (an existing one ends the operation), and the source's protection finalizer is added
/// before `CreateVolume` and removed by the source-protection reconciler once no claim depends on it.
///
/// Grant policy (kubernetes.md §1.4): the grant is checked on every attempt, again immediately before
/// `CreateVolume`, and once more when `CreateVolume` returns; a grant deleted in between makes Ferry delete the
/// volume it just created and wait (Warning event). A grant deleted after the PV exists revokes nothing (KEP-3294).
public struct CSIProvisioner: Sendable {
    public init() {}

    public func reconcile(claim: PersistentVolumeClaim, request: GrantRequest, link: String?, context: ReconcileContext)
        async -> ReconcileOutcome {
        guard let driver = context.configuration.driver, let csi = context.csi else {
            return .waiting(reason: "NoCSIDriver")
        }
        guard let uid = claim.metadata.uid else { return .failed(reason: "InvalidClaim", final: true) }
        if let left = context.infeasibleDelays.remaining(uid, fingerprint: Self.fingerprint(claim, context)) {
            return .requeue(after: left)
        }
        let volumeName = VolumeRequestBuilder.volumeName(claimUID: uid)
        var observation = ProvisioningObservation(claim: claim, existingVolume: nil, grant: context.decideGrant(request))
        let className = claim.spec.storageClassName ?? ""
        observation.awaitingConsumer = context.cache.storageClass(named: className)?.volumeBindingMode == "WaitForFirstConsumer"
            && (claim.metadata.annotations[Rescheduling.selectedNodeAnnotation] ?? "").isEmpty
        // Whether the claim's PV `pvc-<uid>` may already exist is read lazily: a new claim (the common case) needs no
        // GET — CreateVolume is idempotent by name and creating an existing PV answers AlreadyExists, which the
        // provision step accepts when the PV is this claim's. The PV is read before anything the user would see
        // (a denial, a source problem) and up front for claims this process already provisioned, so a provisioned
        // claim never gets a spurious Warning (upstream reads its PV informer for the same check).
        var volumeChecked = false
        func readVolume() async -> Result<PersistentVolume?, KubeError> {
            volumeChecked = true
            do {
                return .success(try await optional { () async throws(KubeError) in
                    try await context.kube.get(PersistentVolume.self, name: volumeName, namespace: nil)
                })
            } catch { return .failure(error) }
        }
        if context.provisionedClaims.contains(uid) {
            switch await readVolume() {
            case .success(let pv): observation.existingVolume = pv
            case .failure: return .failed(reason: "APIError", final: false)
            }
        }
        for _ in 0..<8 {
            let step = ProvisioningStep.decide(observation)
            switch step {
            case .deny, .reportSource:
                if !volumeChecked {
                    switch await readVolume() {
                    case .success(let pv?):
                        observation.existingVolume = pv
                        continue
                    case .success(nil): break
                    case .failure: return .failed(reason: "APIError", final: false)
                    }
                }
            default: break
            }
            switch step {
            case .finished:
                context.provisionedClaims.insert(uid)
                return .done
            case .waitForConsumer:
                return .waiting(reason: "WaitForFirstConsumer")
            case .conflict(let message):
                await warn(claim, EventReason.provisioningFailed, message, context)
                return .failed(reason: "VolumeConflict", final: true)
            case .deny(let denial):
                context.metrics.increment("ferry_grant_denials_total", ["reason": denial.reason])
                await warn(claim, EventReason.provisioningFailed, GrantSuggestion.eventMessage(for: denial), context)
                return .waiting(reason: denial.reason)
            case .resolveSource:
                do {
                    let (source, protected) = try await resolve(request: request, claim: claim, driver: driver, context: context)
                    observation.source = source
                    observation.sourceProtected = protected
                } catch {
                    return .failed(reason: "APIError", final: false)
                }
            case .reportSource(let problem):
                await warn(claim, EventReason.provisioningFailed, problem.message, context)
                switch problem.kind {
                case .notFound, .notReady: return .failed(reason: problem.reason, final: false)
                case .incompatible: return .waiting(reason: problem.reason)
                case .unsupported: return .failed(reason: problem.reason, final: true)
                }
            case .protectSource(let source):
                let failure: KubeError? = await context.sourceLocks.withLock(source.reference) {
                    do throws(KubeError) { try await SourceFinalizer.add(to: source.reference, kube: context.kube) } catch { return error }
                    return nil
                }
                if let failure {
                    context.logger.info("source protection failed", metadata: ["source": "\(source.reference)", "error": "\(failure)"])
                    return .failed(reason: "APIError", final: false)
                }
                observation.sourceProtected = true
            case .provision(let source):
                return await provision(claim: claim, request: request, source: source, link: link, driver: driver,
                                       csi: csi, context: context)
            }
        }
        return .failed(reason: "NoProgress", final: false)
    }

    /// What ends an infeasible delay early: another claim spec or another version of its StorageClass.
    static func fingerprint(_ claim: PersistentVolumeClaim, _ context: ReconcileContext) -> InfeasibleDelays.Fingerprint {
        let sc = claim.spec.storageClassName.flatMap { context.cache.storageClass(named: $0) }
        return .init(claimSpec: claim.spec.object, storageClassVersion: sc?.metadata.resourceVersion ?? "")
    }

    // MARK: Source

    func resolve(request: GrantRequest, claim: PersistentVolumeClaim, driver: DriverCapabilities, context: ReconcileContext)
        async throws(KubeError) -> (Result<ResolvedSource, SourceProblem>, Bool) {
        let ref = request.source
        let requested = Quantity.storage(claim.spec.resources.requests)
        if ref.isVolumeSnapshot {
            let check = SnapshotSourceCheck(provisioner: driver.name, driverSupportsSnapshots: driver.snapshots,
                                            preventVolumeModeConversion: context.configuration.preventVolumeModeConversion)
            let snapshot = try await context.sharedReads.get(VolumeSnapshot.self, name: ref.name, namespace: ref.namespace,
                                                             kube: context.kube)
            let protected = snapshot?.metadata.finalizers.contains(SourceProtection.finalizer) ?? false
            switch check.contentName(reference: ref, snapshot: snapshot) {
            case .failure(let p): return (.failure(p), protected)
            case .success(let contentName):
                guard let snapshot else { return (.failure(SourceProblem(.notFound, "snapshot vanished")), false) }
                let content = try await context.sharedReads.get(VolumeSnapshotContent.self, name: contentName, namespace: nil,
                                                                kube: context.kube)
                return (check.resolve(reference: ref, snapshot: snapshot, content: content, claimNamespace: claim.namespace ?? "",
                                      claimName: claim.name, requestedBytes: requested, claimVolumeMode: claim.spec.volumeMode),
                        protected)
            }
        }
        let check = CloneSourceCheck(provisioner: driver.name, driverSupportsClone: driver.clone)
        let source = try await context.sharedReads.get(PersistentVolumeClaim.self, name: ref.name, namespace: ref.namespace,
                                                       kube: context.kube)
        let protected = source?.metadata.finalizers.contains(SourceProtection.finalizer) ?? false
        switch check.volumeName(reference: ref, source: source, claim: claim) {
        case .failure(let p): return (.failure(p), protected)
        case .success(let pvName):
            guard let source else { return (.failure(SourceProblem(.notFound, "source vanished")), false) }
            let pv = try await context.sharedReads.get(PersistentVolume.self, name: pvName, namespace: nil, kube: context.kube)
            return (check.resolve(reference: ref, source: source, volume: pv, claim: claim), protected)
        }
    }

    // MARK: CreateVolume and the PV

    func provision(claim: PersistentVolumeClaim, request: GrantRequest, source: ResolvedSource, link: String?,
                   driver: DriverCapabilities, csi: any CSIControllerCalls, context: ReconcileContext) async -> ReconcileOutcome {
        guard let className = claim.spec.storageClassName, let storageClass = context.cache.storageClass(named: className) else {
            await warn(claim, EventReason.provisioningFailed, "StorageClass \"\(claim.spec.storageClassName ?? "")\" not found", context)
            return .waiting(reason: "StorageClassNotFound")
        }
        let selectedNode = claim.metadata.annotations["volume.kubernetes.io/selected-node"]
        if storageClass.volumeBindingMode == "WaitForFirstConsumer", (selectedNode ?? "").isEmpty {
            return .waiting(reason: "WaitForFirstConsumer")
        }
        var plan: VolumePlan
        do {
            plan = try VolumeRequestBuilder(driver: driver, defaultFSType: context.configuration.defaultFSType,
                                            extraCreateMetadata: context.configuration.extraCreateMetadata)
                .plan(claim: claim, storageClass: storageClass, source: source)
        } catch {
            await warn(claim, EventReason.provisioningFailed, error.message, context)
            return .waiting(reason: error.reason)
        }
        let uid = claim.metadata.uid ?? ""
        if driver.accessibilityConstraints {
            switch topology(claim: claim, storageClass: storageClass, selectedNode: selectedNode ?? "", driver: driver,
                            context: context) {
            case .success(let requirement):
                plan.request.accessibilityRequirements = requirement
            case .failure(.reschedule(let message)):
                await warn(claim, EventReason.provisioningFailed, message, context)
                return await reschedule(claim, context: context)
            case .failure(.retry(let message)):
                await warn(claim, EventReason.provisioningFailed, message, context)
                return .failed(reason: "TopologyUnavailable", final: false)
            }
        }
        if let ref = plan.secretRefs[.provisioner] {
            do {
                let secret = try await context.kube.get(Secret.self, name: ref.name, namespace: ref.namespace)
                plan.request.secrets = secret.data.compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
            } catch {
                await warn(claim, EventReason.provisioningFailed,
                           "failed to get secret \(ref.name) in namespace \(ref.namespace ?? ""): \(error.message)", context)
                return .failed(reason: "SecretUnavailable", final: false)
            }
        }
        // The grant again, immediately before CreateVolume (it may have been deleted since the attempt began).
        let before = context.decideGrant(request)
        guard case .allowed(let authority) = before else {
            if case .denied(let denial) = before {
                context.metrics.increment("ferry_grant_denials_total", ["reason": denial.reason])
                await warn(claim, EventReason.provisioningFailed, GrantSuggestion.eventMessage(for: denial), context)
                return .waiting(reason: denial.reason)
            }
            return .failed(reason: "Unreachable", final: false)
        }
        context.provisionedClaims.remove(claim.metadata.uid ?? "")
        await context.feedback.report(claim.reference, type: .normal, reason: EventReason.provisioning,
                                      message: "External provisioner is provisioning volume for claim \"\(claim.namespace ?? "")/\(claim.name)\"")
        let crossNamespace = request.crossesNamespaces
        let response: CreateVolumeResponse
        do {
            response = try await csi.createVolume(plan.request, timeout: context.configuration.timeout)
        } catch {
            if crossNamespace { context.metrics.increment("cross_namespace_persistentvolumeclaim_provision_failed_total") }
            let rpc = error as? RPCError ?? RPCError(.unknown, "\(error)")
            await warn(claim, EventReason.provisioningFailed, CSIErrorClass.eventMessage(rpc), context)
            let state = CSIErrorClass.classify(error, topologyInUse: driver.accessibilityConstraints,
                                               nodeSelected: !(selectedNode ?? "").isEmpty)
            // Only a call that may still be running must be repeated with the same topology.
            if state != .inProgress { context.topologyMemo.forget(uid) }
            switch state {
            case .inProgress: return .failed(reason: "CreateVolumeInProgress", final: false)
            case .infeasible:
                let delay = context.configuration.retryIntervalMax
                context.infeasibleDelays.hold(claim.metadata.uid ?? "", fingerprint: Self.fingerprint(claim, context), for: delay)
                return .requeue(after: delay)
            case .reschedule: return await reschedule(claim, context: context)
            case .final: return .failed(reason: "CreateVolumeFailed", final: false)
            }
        }
        let volume: Volume
        do {
            volume = try VolumeResponseCheck.accept(response, plan: plan)
        } catch {
            if let id = response.volume?.volumeId, !id.isEmpty { await deleteVolume(id, plan: plan, csi: csi, context: context) }
            await warn(claim, EventReason.provisioningFailed, error.message, context)
            return .failed(reason: error.reason, final: false)
        }
        // And once more now that the volume exists: a grant deleted meanwhile means the volume is not handed over.
        if case .denied(let denial) = context.decideGrant(request) {
            await deleteVolume(volume.volumeId, plan: plan, csi: csi, context: context)
            await warn(claim, EventReason.grantRevoked,
                       "the ReferenceGrant was deleted while volume \(plan.request.name) was being created; Ferry deleted the volume. \(GrantSuggestion.eventMessage(for: denial))",
                       context)
            return .waiting(reason: denial.reason)
        }
        let pv = PersistentVolumeBuilder(driverName: driver.name, provisionerIdentity: context.provisionerIdentity)
            .build(claim: claim, storageClass: storageClass, plan: plan, volume: volume, source: source,
                   authority: authority, link: link, now: context.timestamp())
        do {
            _ = try await context.kube.create(pv)
        } catch where error.code == .alreadyExists {
            // A previous attempt created it; fine if it is this claim's.
            if let existing = try? await context.kube.get(PersistentVolume.self, name: pv.name, namespace: nil),
               existing.spec.claimRef?.uid != claim.metadata.uid {
                await warn(claim, EventReason.provisioningFailed, "PersistentVolume \(pv.name) exists for another claim", context)
                return .failed(reason: "VolumeConflict", final: true)
            }
        } catch {
            await warn(claim, EventReason.provisioningFailed, "failed to create PersistentVolume \(pv.name): \(error.message)", context)
            return .failed(reason: "APIError", final: false)
        }
        context.provisionedClaims.insert(claim.metadata.uid ?? "")
        context.topologyMemo.forget(uid)
        context.metrics.increment("ferry_volumes_provisioned_total", ["source": request.source.kind])
        if crossNamespace { context.metrics.increment("cross_namespace_persistentvolumeclaim_provision_total") }
        await context.feedback.report(claim.reference, type: .normal, reason: EventReason.provisioningSucceeded,
                                      message: "Successfully provisioned volume \(pv.name)")
        context.logger.info("volume provisioned", metadata: [
            "pvc.namespace": "\(claim.namespace ?? "")", "pvc.name": "\(claim.name)", "pv.name": "\(pv.name)",
            "csi.volume.id": "\(volume.volumeId)", "source": "\(request.source)",
        ])
        return .done
    }

    /// The CreateVolume's `accessibility_requirements` (``AccessibilityRequirements``), remembered per claim until
    /// the operation ends so a retry repeats the same request.
    func topology(claim: PersistentVolumeClaim, storageClass: StorageClass, selectedNode: String, driver: DriverCapabilities,
                  context: ReconcileContext) -> Result<TopologyRequirement?, AccessibilityRequirements.Failure> {
        let uid = claim.metadata.uid ?? ""
        if let remembered = context.topologyMemo.requirement(uid, selectedNode: selectedNode) { return .success(remembered) }
        let result = AccessibilityRequirements.generate(
            driver: driver.name, claimName: claim.name, allowedTopologies: storageClass.allowedTopologies,
            selectedNode: selectedNode, strict: context.configuration.strictTopology,
            immediate: context.configuration.immediateTopology,
            view: context.cache.nodeTopology(driver: driver.name) ?? NodeTopologyView())
        if case .success(let requirement) = result { context.topologyMemo.remember(uid, selectedNode: selectedNode, requirement) }
        return result
    }

    /// `rescheduleProvisioning`: the claim goes back to the scheduler without `selected-node` (the Warning with the
    /// error text was already emitted). The Update uses the claim's resourceVersion, so a claim changed meanwhile
    /// answers Conflict and is retried like a final error, as upstream does.
    func reschedule(_ claim: PersistentVolumeClaim, context: ReconcileContext) async -> ReconcileOutcome {
        context.topologyMemo.forget(claim.metadata.uid ?? "")
        guard let updated = Rescheduling.claimForScheduler(claim) else {
            return .failed(reason: "CreateVolumeFailed", final: false)
        }
        do {
            _ = try await context.kube.update(updated)
        } catch {
            context.logger.info("Volume rescheduling failed", metadata: [
                "pvc.namespace": "\(claim.namespace ?? "")", "pvc.name": "\(claim.name)", "error": "\(error)",
            ])
            return .failed(reason: "RescheduleFailed", final: false)
        }
        context.logger.info("volume rescheduled", metadata: [
            "pvc.namespace": "\(claim.namespace ?? "")", "pvc.name": "\(claim.name)",
            "node": "\(claim.metadata.annotations[Rescheduling.selectedNodeAnnotation] ?? "")",
        ])
        return .waiting(reason: "Rescheduled")
    }

    func deleteVolume(_ id: String, plan: VolumePlan, csi: any CSIControllerCalls, context: ReconcileContext) async {
        do {
            _ = try await csi.deleteVolume(DeleteVolumeRequest(volumeId: id, secrets: plan.request.secrets),
                                           timeout: context.configuration.timeout)
        } catch {
            context.logger.info("DeleteVolume failed", metadata: ["csi.volume.id": "\(id)", "error": "\(error)"])
        }
    }

    func warn(_ claim: PersistentVolumeClaim, _ reason: String, _ message: String, _ context: ReconcileContext) async {
        await context.feedback.report(claim.reference, type: .warning, reason: reason, message: message)
    }
}

/// A GET whose NotFound is an answer (nil), not an error.
func optional<T>(_ body: () async throws(KubeError) -> T) async throws(KubeError) -> T? {
    do { return try await body() } catch where error.code == .notFound { return nil }
}
