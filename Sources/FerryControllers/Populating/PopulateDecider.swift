import Foundation

/// The populating state machine: `decide(observation) -> PopulateDecision`, pure and table-tested
/// (STYLE.md §3b; kubernetes.md §2.1 is the flow, with its known holes closed — issue 13 items 3 and 5).
///
/// Order of checks, each a guard that either acts and stops, or lets the next run:
/// 1. PVC being deleted → clean up every temporary object (reclaim policy restored first), drop the finalizer.
/// 2. PVC bound → hand-over done: restore the reclaim policy, clean up, `PopulatorFinished`.
/// 3. Source missing or not allowed → stop the work (fail closed: nothing is handed over), Warning, wait.
/// 4. volumeMode Block → Warning, wait (a Kopia snapshot is a file tree).
/// 5. Resolution failed (unreachable, wrong password, no match, ambiguous, snapshot gone, damaged) → stop the pod,
///    keep the prime PVC (a later run resumes into it), Warning naming the cause, capped backoff.
///    First resolution → pin the snapshot ID on the PVC, Normal event naming it and why.
///    The PVC asks for less than the snapshot holds → Warning `VolumeTooSmall`, wait (checked before restoring).
/// 6. StorageClass missing, or WaitForFirstConsumer without a selected node → Normal event, wait.
/// 7. Finalizer, prime PVC, credentials Secret, populator pod (`PopulatorCreated`).
/// 8. Pod running → progress events; pod failed → `PopulatorFailed`, delete pod and Secret, count, back off;
///    pod succeeded with `ferry populate`'s succeeded report for the pinned snapshot → delete the Secret, hold the
///    PV at Retain, move its claimRef to the user's PVC, wait for bind; succeeded without that report → treated as
///    a failed run (fail closed: an exit code alone never hands a volume over).
public struct PopulateDecider: Sendable {
    /// How often a running populator is polled for progress.
    public var progressInterval: Duration = .seconds(2)
    /// How long a wait on something outside Ferry may go without a re-check.
    public var recheckInterval: Duration = .seconds(30)
    /// Backoff after the first failed run; doubles per failure up to `maximumBackoff`.
    public var baseBackoff: Duration = .seconds(2)
    public var maximumBackoff: Duration = .seconds(300)

    public init() {}

    /// The capped backoff after `failures` failed runs (0 → none).
    public func backoff(failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        var d = baseBackoff
        for _ in 1..<min(failures, 30) {
            d = d * 2
            if d >= maximumBackoff { return maximumBackoff }
        }
        return min(d, maximumBackoff)
    }

    public func decide(_ o: PopulateObservation) -> PopulateDecision {
        let c = o.claim
        if c.deleting {
            var a = cleanup(o)
            if c.hasFinalizer { a.append(.removeFinalizer) }
            return PopulateDecision(a, .done)
        }
        if c.phase == "Bound", c.volumeName != nil {
            return handedOver(o)
        }
        switch o.access {
        case .sourceNotFound(let ns, let name):
            return PopulateDecision(cleanup(o) + [.event(.warning("PopulatorDataSourceNotFound", "Data source \(ns)/\(name) not found"))],
                                    .waiting(reason: "KopiaSnapshot \(ns)/\(name) not found", recheck: recheckInterval))
        case .denied(let message):
            return PopulateDecision(cleanup(o) + [.event(.warning("ProvisioningFailed", message))],
                                    .waiting(reason: message, recheck: recheckInterval))
        case .allowed:
            break
        }
        if c.volumeMode == "Block" {
            let e = PopulatingError(.unsupportedVolumeMode,
                "PVC \(c.namespace)/\(c.name) has volumeMode Block; a Kopia snapshot is a file tree and needs volumeMode Filesystem")
            return PopulateDecision(cleanup(o) + [.event(.warning(e.code.reason, e.message))],
                                    .waiting(reason: e.message, recheck: recheckInterval))
        }
        var actions: [PopulateAction] = []
        var snapshotID = c.pinnedSnapshotID
        switch o.resolution {
        case nil:
            return PopulateDecision([], .requeue(after: progressInterval))
        case .failed(let e):
            var a = stopPod(o)
            a.append(.event(.warning(e.code.reason, e.message)))
            let wait = e.retry == .transient
                ? backoff(failures: max(1, (o.prime?.failures ?? 0) + 1)) : recheckInterval
            return PopulateDecision(a, .waiting(reason: e.message, recheck: wait))
        case .deferredToPod:
            if snapshotID == nil, let reported = o.pod?.report?.snapshotID {
                actions.append(.pinSnapshot(id: reported, reason: "resolved by the populator pod (repository on a PVC)"))
                snapshotID = reported
            }
        case .snapshot(let s):
            if c.pinnedSnapshotID == nil {
                return PopulateDecision([
                    .pinSnapshot(id: s.id, reason: s.reason),
                    .event(.normal("SnapshotChosen", "Restoring Kopia snapshot \(s.id) of \(s.identity) (started \(s.startTime), \(PopulateReport.bytes(s.size)) in \(s.files) files): \(s.reason)")),
                ], .requeue(after: .zero))
            }
            if let requested = c.requestedBytes, requested < s.size {
                let e = PopulatingError(.volumeTooSmall,
                    "PVC \(c.namespace)/\(c.name) requests \(requested) bytes but snapshot \(s.id) holds \(s.size) bytes of files; create the PVC with at least that much storage")
                return PopulateDecision(cleanup(o) + [.event(.warning(e.code.reason, e.message))],
                                        .waiting(reason: e.message, recheck: recheckInterval))
            }
        }
        guard let wffc = o.waitForFirstConsumer else {
            return PopulateDecision(actions + [.event(.warning("StorageClassNotFound",
                "StorageClass \(c.storageClassName ?? "(none)") of PVC \(c.namespace)/\(c.name) does not exist; the volume cannot be provisioned"))],
                .waiting(reason: "StorageClass not found", recheck: recheckInterval))
        }
        if wffc, c.selectedNode == nil {
            return PopulateDecision(actions + [.event(.normal("WaitForFirstConsumer",
                "waiting for a consumer: the volume is populated once a pod that uses PVC \(c.name) is scheduled"))],
                .waiting(reason: "waiting for first consumer", recheck: recheckInterval))
        }
        if !c.hasFinalizer { actions.append(.addFinalizer) }
        let failures = o.prime?.failures ?? 0
        if o.prime == nil { actions.append(.createPrime) }
        // Immediate binding: the pod is created once PVC′ is bound, so the scheduler sees a bound claim (as
        // upstream's provider mode waits for PVC′ before it populates). WaitForFirstConsumer: the pod goes straight
        // to the selected node, which is what lets PVC′ be provisioned.
        if o.pod == nil, !wffc, o.prime?.phase != "Bound" {
            return PopulateDecision(actions, .requeue(after: progressInterval))
        }
        guard let pod = o.pod else {
            if failures > 0, let since = o.prime?.sinceLastFailure, since < backoff(failures: failures) {
                return PopulateDecision(actions, .requeue(after: backoff(failures: failures) - since))
            }
            if !o.credentialsExist { actions.append(.createCredentials) }
            actions.append(.createPod(snapshotID: snapshotID))
            actions.append(.event(.normal("PopulatorCreated", "Populator started")))
            return PopulateDecision(actions, .requeue(after: progressInterval))
        }
        switch pod.phase {
        case .pending, .running:
            if !o.credentialsExist { actions.append(.createCredentials) }
            if let r = pod.report, r.state == .progress {
                actions.append(.event(.normal("PopulateProgress", "Restoring snapshot \(r.snapshotID ?? snapshotID ?? "?"): \(r.progressText)")))
            }
            return PopulateDecision(actions, .requeue(after: progressInterval))
        case .failed:
            let what = pod.report?.message ?? pod.message ?? "the populator pod failed without a message"
            actions += [.event(.warning("PopulatorFailed", "Populator failed: \(what)")), .deletePod]
            if o.credentialsExist { actions.append(.deleteCredentials) }
            actions.append(.recordFailure(count: failures + 1))
            return PopulateDecision(actions, .requeue(after: backoff(failures: failures + 1)))
        case .succeeded:
            if o.credentialsExist { actions.append(.deleteCredentials) }
            guard let prime = o.prime, let volumeName = prime.volumeName, let v = o.volume, v.name == volumeName else {
                return PopulateDecision(actions, .waiting(reason: "waiting for the prime PVC's volume", recheck: progressInterval))
            }
            let claimed = v.claimNamespace == c.namespace && v.claimName == c.name && v.claimUID == c.uid
            if !claimed, let problem = unfinished(pod.report, pinned: snapshotID) {
                // Fail closed: exit code 0 alone does not prove the restore finished (a runtime that lost the
                // termination message, a wrapper that swallowed the exit code). Only `ferry populate`'s own
                // succeeded report for the pinned snapshot lets the volume be handed over.
                actions += [.event(.warning("PopulatorFailed", "Populator failed: \(problem)")), .deletePod]
                actions.append(.recordFailure(count: failures + 1))
                return PopulateDecision(actions, .requeue(after: backoff(failures: failures + 1)))
            }
            if !claimed {
                if v.reclaimPolicy != "Retain" {
                    actions.append(.holdReclaim(volume: v.name, original: v.reclaimPolicy ?? "Delete"))
                }
                actions.append(.rebind(volume: v.name))
                if let r = pod.report {
                    actions.append(.event(.normal("Populated", "Restored snapshot \(r.snapshotID ?? snapshotID ?? "?")\(r.verified ? " (verified)" : ""): \(r.progressText) in \(String(format: "%.1f", r.seconds)) s")))
                }
            }
            return PopulateDecision(actions, .waiting(reason: "waiting for PersistentVolume \(v.name) to bind to PVC \(c.name)", recheck: progressInterval))
        }
    }

    /// Why a pod that exited 0 did not prove a finished restore of `pinned` (nil: it did).
    private func unfinished(_ report: PopulateReport?, pinned: String?) -> String? {
        guard let report else {
            return "the populator pod exited 0 without a report in its termination message; the restore is not known to have finished, so the volume is not handed over"
        }
        guard report.state == .succeeded else {
            return "the populator pod exited 0 but reported state \(report.state.rawValue)\(report.message.map { ": \($0)" } ?? ""); the volume is not handed over"
        }
        if let pinned, let reported = report.snapshotID, reported != pinned {
            return "the populator pod restored snapshot \(reported) but the PVC is pinned to \(pinned); the volume is not handed over"
        }
        return nil
    }

    /// The PVC is bound: put the reclaim policy back, delete what is left, say so once.
    private func handedOver(_ o: PopulateObservation) -> PopulateDecision {
        var a: [PopulateAction] = []
        if let v = o.volume, v.name == o.claim.volumeName, let held = v.heldReclaimPolicy {
            a.append(.restoreReclaim(volume: v.name, policy: held))
        }
        if o.pod != nil { a.append(.deletePod) }
        if o.credentialsExist { a.append(.deleteCredentials) }
        if o.prime != nil {
            a.append(.deletePrime)
            a.append(.event(.normal("PopulatorFinished", "Populator finished")))
        }
        if o.claim.hasFinalizer { a.append(.removeFinalizer) }
        return PopulateDecision(a, .done)
    }

    /// Stops a running populator (pod and its Secret), keeping the prime PVC so a later run resumes into it.
    private func stopPod(_ o: PopulateObservation) -> [PopulateAction] {
        var a: [PopulateAction] = []
        if o.pod != nil { a.append(.deletePod) }
        if o.credentialsExist { a.append(.deleteCredentials) }
        return a
    }

    /// Removes every temporary object; a PV held at Retain gets its policy back first, so deleting the prime
    /// PVC releases it as its StorageClass intends.
    private func cleanup(_ o: PopulateObservation) -> [PopulateAction] {
        var a = stopPod(o)
        if let v = o.volume, let held = v.heldReclaimPolicy, v.name == o.prime?.volumeName {
            a.append(.restoreReclaim(volume: v.name, policy: held))
        }
        if o.prime != nil { a.append(.deletePrime) }
        return a
    }
}
