import FerryControllers
import Kube
import Testing

/// The populating state machine, one row per situation (lib-volume-populator's flow with its holes closed).
struct PopulateDeciderTests {
    static let snapshot = ResolvedSnapshotFacts(id: "8acd6104b18c10046f4878a3f3284e18",
                                                identity: "webapp-backup-production@production:/data",
                                                startTime: "2026-11-21T00:01:10Z", size: 170_180, files: 6,
                                                reason: "newest complete snapshot")

    /// A PVC pinned, allowed, resolved, in an Immediate class, with nothing created yet.
    static func base() -> PopulateObservation {
        var claim = PopulateObservation.Claim(namespace: "staging", name: "webapp-data", uid: "u1")
        claim.requestedBytes = 1 << 30
        claim.storageClassName = "fast"
        claim.accessModes = ["ReadWriteOnce"]
        claim.pinnedSnapshotID = snapshot.id
        claim.hasFinalizer = true
        return PopulateObservation(claim: claim, access: .allowed(grant: "production/staging-may-restore"),
                                   resolution: .snapshot(snapshot), workNamespace: "ferry-system")
    }

    static func running() -> PopulateObservation {
        var o = base()
        o.prime = .init(phase: "Bound", volumeName: "pv-1")
        o.volume = .init(name: "pv-1", reclaimPolicy: "Delete", claimNamespace: "ferry-system",
                         claimName: "ferry-prime-u1", claimUID: "p1")
        o.credentialsExist = true
        o.pod = .init(phase: .running)
        return o
    }

    let decider = PopulateDecider()

    @Test func firstResolutionPinsTheSnapshotAndSaysWhichAndWhy() {
        var o = Self.base()
        o.claim.pinnedSnapshotID = nil
        let d = decider.decide(o)
        #expect(d.actions.first == .pinSnapshot(id: Self.snapshot.id, reason: "newest complete snapshot"))
        guard case .event(let e) = d.actions.last else { Issue.record("no event"); return }
        #expect(e.reason == "SnapshotChosen" && !e.warning)
        #expect(e.message.contains(Self.snapshot.id) && e.message.contains("webapp-backup-production@production:/data"))
        #expect(!d.actions.contains(.createPrime))
    }

    @Test func aPinnedAllowedPVCGetsPrimeThenSecretAndPodOnceThePrimeIsBound() {
        var o = Self.base()
        o.claim.hasFinalizer = false
        #expect(decider.decide(o).actions == [.addFinalizer, .createPrime])
        o.claim.hasFinalizer = true
        o.prime = .init(phase: "Pending")
        #expect(decider.decide(o).actions.isEmpty)
        o.prime = .init(phase: "Bound", volumeName: "pv-1")
        #expect(decider.decide(o).actions == [.createCredentials, .createPod(snapshotID: Self.snapshot.id),
                                              .event(.normal("PopulatorCreated", "Populator started"))])
    }

    @Test func underWaitForFirstConsumerThePodGoesToTheSelectedNodeWithoutWaitingForThePrime() {
        var o = Self.base()
        o.waitForFirstConsumer = true
        o.claim.selectedNode = "node-1"
        o.prime = .init(phase: "Pending")
        #expect(decider.decide(o).actions.contains(.createPod(snapshotID: Self.snapshot.id)))
    }

    @Test func progressOfARunningPodBecomesAnEvent() {
        var o = Self.running()
        var r = PopulateReport(state: .progress, snapshotID: Self.snapshot.id)
        r.bytesDone = 1 << 20
        r.bytesTotal = 2 << 20
        r.filesDone = 3
        r.filesTotal = 6
        o.pod = .init(phase: .running, report: r)
        let d = decider.decide(o)
        guard case .event(let e) = d.actions.last else { Issue.record("no event"); return }
        #expect(e.reason == "PopulateProgress")
        #expect(e.message.contains("1.0 MiB of 2.0 MiB, 3 of 6 files"))
        #expect(d.outcome == .requeue(after: decider.progressInterval))
    }

    @Test func aSucceededPodLeadsToRetainThenClaimRefSwapAndTheSecretGoes() {
        var o = Self.running()
        o.pod = .init(phase: .succeeded, report: PopulateReport(state: .succeeded, snapshotID: Self.snapshot.id))
        let d = decider.decide(o)
        #expect(Array(d.actions.prefix(3)) == [.deleteCredentials, .holdReclaim(volume: "pv-1", original: "Delete"),
                                                .rebind(volume: "pv-1")])
        if case .waiting = d.outcome {} else { Issue.record("expected a wait for the bind") }
    }

    @Test(arguments: [
        (nil, "without a report"),
        (PopulateReport(state: .progress, snapshotID: snapshot.id), "reported state progress"),
        (PopulateReport(state: .succeeded, snapshotID: "0000other"), "restored snapshot 0000other"),
    ] as [(PopulateReport?, String)])
    func aPodThatExitedZeroWithoutASucceededReportForThePinIsAFailedRunNotAHandOver(_ report: PopulateReport?, _ says: String) {
        var o = Self.running()
        o.prime?.failures = 1
        o.pod = .init(phase: .succeeded, report: report)
        let d = decider.decide(o)
        #expect(!d.actions.contains { if case .rebind = $0 { true } else { false } })
        #expect(!d.actions.contains { if case .holdReclaim = $0 { true } else { false } })
        #expect(d.actions.contains { if case .event(let e) = $0 { e.warning && e.reason == "PopulatorFailed" && e.message.contains(says) } else { false } },
                "\(d.actions)")
        #expect(d.actions.contains(.deletePod) && d.actions.contains(.deleteCredentials) && d.actions.contains(.recordFailure(count: 2)))
        #expect(!d.actions.contains(.deletePrime))
        #expect(d.outcome == .requeue(after: .seconds(4)))
    }

    @Test func aPVAlreadyAtRetainIsNotHeldAgainAndAMovedClaimRefIsNotMovedTwice() {
        var o = Self.running()
        o.credentialsExist = false
        o.pod = .init(phase: .succeeded)
        o.volume = .init(name: "pv-1", reclaimPolicy: "Retain", heldReclaimPolicy: "Delete",
                         claimNamespace: "staging", claimName: "webapp-data", claimUID: "u1")
        #expect(decider.decide(o).actions.isEmpty)
    }

    @Test func theBoundPVCGetsItsReclaimPolicyBackAndEverythingTemporaryGoes() {
        var o = Self.running()
        o.pod = .init(phase: .succeeded)
        o.credentialsExist = false
        o.claim.phase = "Bound"
        o.claim.volumeName = "pv-1"
        o.volume = .init(name: "pv-1", reclaimPolicy: "Retain", heldReclaimPolicy: "Delete",
                         claimNamespace: "staging", claimName: "webapp-data", claimUID: "u1")
        o.prime = .init(phase: "Lost", volumeName: "pv-1")
        let d = decider.decide(o)
        #expect(d.actions == [.restoreReclaim(volume: "pv-1", policy: "Delete"), .deletePod, .deletePrime,
                              .event(.normal("PopulatorFinished", "Populator finished")), .removeFinalizer])
        #expect(d.outcome == .done)
    }

    @Test func aFailedPodIsReportedWithUpstreamTextDeletedCountedAndBackedOff() {
        var o = Self.running()
        o.prime?.failures = 2
        var r = PopulateReport(state: .failed, snapshotID: Self.snapshot.id)
        r.message = "content 1234 in pack p5d46 fails authentication"
        o.pod = .init(phase: .failed, message: "ignored when a report exists", report: r)
        let d = decider.decide(o)
        #expect(d.actions == [.event(.warning("PopulatorFailed", "Populator failed: content 1234 in pack p5d46 fails authentication")),
                              .deletePod, .deleteCredentials, .recordFailure(count: 3)])
        #expect(d.outcome == .requeue(after: .seconds(8)))
    }

    @Test func anEvictedPodWithoutAReportUsesThePodMessage() {
        var o = Self.running()
        o.pod = .init(phase: .failed, message: "The node was low on resource: ephemeral-storage.")
        let d = decider.decide(o)
        #expect(d.actions.first == .event(.warning("PopulatorFailed", "Populator failed: The node was low on resource: ephemeral-storage.")))
    }

    @Test func backoffDoublesAndIsCapped() {
        #expect(decider.backoff(failures: 0) == .zero)
        #expect(decider.backoff(failures: 1) == .seconds(2))
        #expect(decider.backoff(failures: 4) == .seconds(16))
        #expect(decider.backoff(failures: 9) == .seconds(300))
        #expect(decider.backoff(failures: 10_000) == .seconds(300))
    }

    @Test func aNewPodWaitsOutTheBackoffEvenWhenSomethingElseWakesTheReconcile() {
        var o = Self.base()
        o.prime = .init(phase: "Bound", volumeName: "pv-1", failures: 3, sinceLastFailure: .seconds(5))
        let d = decider.decide(o)
        #expect(d.outcome == .requeue(after: .seconds(3)))
        #expect(!d.actions.contains { if case .createPod = $0 { true } else { false } })
        o.prime?.sinceLastFailure = .seconds(9)
        #expect(decider.decide(o).actions.contains(.createPod(snapshotID: Self.snapshot.id)))
    }

    struct FailClosedCase: Sendable, CustomTestStringConvertible {
        let name: String
        let resolution: PopulateObservation.Resolution
        let reason: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        FailClosedCase(name: "repository unreachable", resolution: .failed(PopulatingError(.repositoryUnreachable, "connection refused")), reason: "RepositoryUnreachable"),
        FailClosedCase(name: "wrong password", resolution: .failed(PopulatingError(.wrongPassword, "wrong")), reason: "WrongPassword"),
        FailClosedCase(name: "snapshot gone", resolution: .failed(PopulatingError(.snapshotGone, "gone")), reason: "SnapshotGone"),
        FailClosedCase(name: "damaged data", resolution: .failed(PopulatingError(.damagedRepository, "bad pack")), reason: "DamagedRepository"),
    ])
    func aFailedResolutionStopsThePodKeepsThePrimeAndNeverRebinds(_ c: FailClosedCase) {
        var o = Self.running()
        o.resolution = c.resolution
        o.pod = .init(phase: .succeeded)
        let d = decider.decide(o)
        #expect(d.actions.contains(.deletePod))
        #expect(d.actions.contains(.deleteCredentials))
        #expect(!d.actions.contains(.deletePrime))
        #expect(!d.actions.contains { if case .rebind = $0 { true } else { false } })
        #expect(d.actions.contains { if case .event(let e) = $0 { e.warning && e.reason == c.reason } else { false } })
        if case .waiting = d.outcome {} else { Issue.record("expected a wait") }
    }

    @Test func aRevokedGrantBeforeHandOverStopsEverythingAndNamesTheGrant() {
        var o = Self.running()
        o.pod = .init(phase: .succeeded)
        o.volume?.reclaimPolicy = "Retain"
        o.volume?.heldReclaimPolicy = "Delete"
        let message = "accessing production/webapp of KopiaSnapshot dataSource from staging/webapp-data isn't allowed"
        o.access = .denied(message: message)
        let d = decider.decide(o)
        #expect(d.actions == [.deletePod, .deleteCredentials, .restoreReclaim(volume: "pv-1", policy: "Delete"),
                              .deletePrime, .event(.warning("ProvisioningFailed", message))])
    }

    @Test func aMissingKopiaSnapshotUsesUpstreamsText() {
        var o = Self.base()
        o.access = .sourceNotFound(namespace: "production", name: "webapp")
        #expect(decider.decide(o).actions == [.event(.warning("PopulatorDataSourceNotFound", "Data source production/webapp not found"))])
    }

    @Test func aVolumeSmallerThanTheSnapshotIsRefusedBeforeAnythingIsRestored() {
        var o = Self.base()
        o.claim.requestedBytes = 100_000
        let d = decider.decide(o)
        #expect(d.actions.count == 1)
        guard case .event(let e) = d.actions.first else { Issue.record("no event"); return }
        #expect(e.warning && e.reason == "VolumeTooSmall")
        #expect(e.message.contains("170180"))
    }

    @Test func blockVolumesAreRefused() {
        var o = Self.base()
        o.claim.volumeMode = "Block"
        guard case .event(let e) = decider.decide(o).actions.first else { Issue.record("no event"); return }
        #expect(e.reason == "UnsupportedVolumeMode")
    }

    @Test func waitForFirstConsumerWaitsVisiblyUntilANodeIsSelected() {
        var o = Self.base()
        o.waitForFirstConsumer = true
        let d = decider.decide(o)
        #expect(d.actions == [.event(.normal("WaitForFirstConsumer",
            "waiting for a consumer: the volume is populated once a pod that uses PVC webapp-data is scheduled"))])
        o.claim.selectedNode = "node-1"
        #expect(decider.decide(o).actions.contains(.createPrime))
        #expect(decider.decide(o).actions.contains(.createPod(snapshotID: Self.snapshot.id)))
    }

    @Test func aMissingStorageClassIsAWarningNotASilentWait() {
        var o = Self.base()
        o.waitForFirstConsumer = nil
        guard case .event(let e) = decider.decide(o).actions.first else { Issue.record("no event"); return }
        #expect(e.warning && e.reason == "StorageClassNotFound")
    }

    @Test func deletingThePVCCleansUpEverythingAndReleasesTheFinalizer() {
        var o = Self.running()
        o.claim.deleting = true
        o.volume?.reclaimPolicy = "Retain"
        o.volume?.heldReclaimPolicy = "Delete"
        let d = decider.decide(o)
        #expect(d.actions == [.deletePod, .deleteCredentials, .restoreReclaim(volume: "pv-1", policy: "Delete"),
                              .deletePrime, .removeFinalizer])
        #expect(d.outcome == .done)
    }

    @Test func aRepositoryOnAPVCIsResolvedByThePodAndPinnedFromItsReport() {
        var o = Self.running()
        o.claim.pinnedSnapshotID = nil
        o.resolution = .deferredToPod
        o.pod = .init(phase: .failed, report: PopulateReport(state: .failed, snapshotID: "abc123"))
        let d = decider.decide(o)
        #expect(d.actions.first == .pinSnapshot(id: "abc123", reason: "resolved by the populator pod (repository on a PVC)"))
        var fresh = Self.base()
        fresh.claim.pinnedSnapshotID = nil
        fresh.resolution = .deferredToPod
        fresh.prime = .init(phase: "Bound", volumeName: "pv-1")
        #expect(decider.decide(fresh).actions.contains(.createPod(snapshotID: nil)))
    }

    @Test func decidingTwiceOnTheSameObservationGivesTheSameDecision() {
        for o in [Self.base(), Self.running()] {
            #expect(decider.decide(o) == decider.decide(o))
        }
    }
}
