public import Kube

/// What the CSI provisioning reconciler has observed about one claim so far.
public struct ProvisioningObservation: Sendable {
    public var claim: PersistentVolumeClaim
    /// The PV named `pvc-<claim UID>`, if it exists.
    public var existingVolume: PersistentVolume?
    public var grant: GrantDecision
    /// nil until the source has been read.
    public var source: Result<ResolvedSource, SourceProblem>?
    /// Whether the source already carries Ferry's protection finalizer.
    public var sourceProtected: Bool
    /// The StorageClass binds on first consumer and no node is selected yet.
    public var awaitingConsumer: Bool

    public init(claim: PersistentVolumeClaim, existingVolume: PersistentVolume?, grant: GrantDecision,
                source: Result<ResolvedSource, SourceProblem>? = nil, sourceProtected: Bool = false,
                awaitingConsumer: Bool = false) {
        self.claim = claim
        self.existingVolume = existingVolume
        self.grant = grant
        self.source = source
        self.sourceProtected = sourceProtected
        self.awaitingConsumer = awaitingConsumer
    }
}

/// The next step of CSI provisioning for a claim; one pure function, level-triggered (STYLE.md §3b).
public enum ProvisioningStep: Sendable, Hashable {
    /// The PV for this claim exists (a restart after it was created): nothing to create; release protection.
    case finished(volumeName: String)
    /// A PV named `pvc-<uid>` exists for another claim: never touch it.
    case conflict(String)
    /// Not allowed: report and wait for a grant.
    case deny(GrantDenial)
    /// Read the source (live GETs).
    case resolveSource
    /// The source cannot be used yet: report and wait.
    case reportSource(SourceProblem)
    /// WaitForFirstConsumer without a selected node: wait for the scheduler. The grant and the source were checked
    /// (problems are reported early), but nothing is written — no protection finalizer on the source — as
    /// external-provisioner does not start before `selected-node` is set.
    case waitForConsumer
    /// Put the protection finalizer on the source before anything depends on it.
    case protectSource(ResolvedSource)
    /// Re-check the grant, CreateVolume, check the answer, create the PV.
    case provision(ResolvedSource)

    public static func decide(_ o: ProvisioningObservation) -> ProvisioningStep {
        if let pv = o.existingVolume {
            if let uid = pv.spec.claimRef?.uid, uid == o.claim.metadata.uid { return .finished(volumeName: pv.name) }
            return .conflict("PersistentVolume \(pv.name) exists but is not bound to claim \(o.claim.namespace ?? "")/\(o.claim.name) (UID \(o.claim.metadata.uid ?? ""))")
        }
        if case .denied(let denial) = o.grant { return .deny(denial) }
        guard let source = o.source else { return .resolveSource }
        switch source {
        case .failure(let problem): return .reportSource(problem)
        case .success(let resolved):
            if o.awaitingConsumer { return .waitForConsumer }
            return o.sourceProtected ? .provision(resolved) : .protectSource(resolved)
        }
    }
}
