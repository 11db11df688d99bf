import CSI
import FerryControllers
import Kube
import Testing

/// external-provisioner's snapshot source checks (kubernetes.md §1.5), each with its exact message.
struct SnapshotCase: Sendable, CustomTestStringConvertible {
    var name: String
    var snapshot: VolumeSnapshot?
    var content: VolumeSnapshotContent? = Build.content()
    var claimSize = "1Gi"
    var claimMode: String? = nil
    var driverSupportsSnapshots = true
    var message: String?  // nil = resolves
    var testDescription: String { name }

    static let wrap = "error getting handle for DataSource Type VolumeSnapshot by Name snap: "
    static let modePrefix = "requested volume staging/claim modifies the mode of the source volume but does not have permission to do so."

    static let all: [SnapshotCase] = [
        SnapshotCase(name: "a bound ready snapshot of this driver resolves to its handle", snapshot: Build.snapshot()),
        SnapshotCase(name: "a driver without snapshot support is refused", snapshot: Build.snapshot(),
                     driverSupportsSnapshots: false,
                     message: wrap + "CSI driver does not support snapshot restore: the driver does not report the CREATE_DELETE_SNAPSHOT controller capability"),
        SnapshotCase(name: "a missing snapshot is reported", snapshot: nil,
                     message: wrap + "error getting snapshot snap from api server: volumesnapshots.snapshot.storage.k8s.io \"snap\" not found"),
        SnapshotCase(name: "a snapshot being deleted is refused", snapshot: Build.snapshot(deleting: true),
                     message: wrap + "snapshot snap is being deleted"),
        SnapshotCase(name: "a snapshot being deleted that Ferry already protects still resolves",
                     snapshot: Build.snapshot(deleting: true, finalizers: [SourceProtection.finalizer])),
        SnapshotCase(name: "an unbound snapshot waits", snapshot: Build.snapshot(content: nil),
                     message: wrap + "snapshot snap not bound"),
        SnapshotCase(name: "a missing content is reported", snapshot: Build.snapshot(), content: nil,
                     message: wrap + "error getting snapshotcontent snapcontent-1 for snapshot prod/snap from api server: volumesnapshotcontents.snapshot.storage.k8s.io \"snapcontent-1\" not found"),
        SnapshotCase(name: "a content bound to another snapshot is refused", snapshot: Build.snapshot(),
                     content: Build.content(uid: "other-uid"),
                     message: wrap + "snapshotcontent snapcontent-1 for snapshot prod/snap is bound to a different snapshot"),
        SnapshotCase(name: "a snapshot of another driver is refused", snapshot: Build.snapshot(),
                     content: Build.content(driver: "other.csi"),
                     message: wrap + "snapshotcontent snapcontent-1 for snapshot prod/snap is not handled by CSI driver of StorageClass ferry.test.csi"),
        SnapshotCase(name: "a snapshot that is not ready waits", snapshot: Build.snapshot(ready: false),
                     message: wrap + "snapshot snap is not Ready"),
        SnapshotCase(name: "a snapshot with readiness unset waits", snapshot: Build.snapshot(ready: nil),
                     message: wrap + "snapshot snap is not Ready"),
        SnapshotCase(name: "a content without a handle waits", snapshot: Build.snapshot(), content: Build.content(handle: nil),
                     message: wrap + "snapshot handle snapcontent-1 is not available"),
        SnapshotCase(name: "a request smaller than the restore size is refused", snapshot: Build.snapshot(restoreSize: "2Gi"),
                     message: wrap + "requested volume size 1073741824 is less than the size 2147483648 for the source snapshot snap"),
        SnapshotCase(name: "a larger request than the restore size is fine", snapshot: Build.snapshot(restoreSize: "512Mi")),
        SnapshotCase(name: "no restore size skips the size check", snapshot: Build.snapshot(restoreSize: nil), claimSize: "1Mi"),
        SnapshotCase(name: "a mode change without the annotation is refused", snapshot: Build.snapshot(),
                     content: Build.content(sourceMode: "Filesystem"), claimMode: "Block",
                     message: wrap + modePrefix + " snapshot.storage.kubernetes.io/allow-volume-mode-change annotation is not present on snapshotcontent snapcontent-1"),
        SnapshotCase(name: "a mode change with other annotations only is refused", snapshot: Build.snapshot(),
                     content: Build.content(sourceMode: "Filesystem", annotations: ["x": "y"]), claimMode: "Block",
                     message: wrap + modePrefix + " snapshot.storage.kubernetes.io/allow-volume-mode-change annotation is not present on snapshotcontent snapcontent-1"),
        SnapshotCase(name: "a mode change the content forbids is refused", snapshot: Build.snapshot(),
                     content: Build.content(sourceMode: "Filesystem", annotations: [SnapshotSourceCheck.allowVolumeModeChange: "false"]),
                     claimMode: "Block",
                     message: wrap + modePrefix + " snapshot.storage.kubernetes.io/allow-volume-mode-change is set to false on snapshotcontent snapcontent-1"),
        SnapshotCase(name: "a mode change the content allows resolves", snapshot: Build.snapshot(),
                     content: Build.content(sourceMode: "Filesystem", annotations: [SnapshotSourceCheck.allowVolumeModeChange: "true"]),
                     claimMode: "Block"),
        SnapshotCase(name: "the same mode needs no annotation", snapshot: Build.snapshot(),
                     content: Build.content(sourceMode: "Block"), claimMode: "Block"),
    ]
}

struct SourceCheckTests {
    static let reference = SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "prod", name: "snap")

    @Test(arguments: SnapshotCase.all)
    func snapshotChecksMatchExternalProvisioner(_ c: SnapshotCase) {
        let check = SnapshotSourceCheck(provisioner: Build.driver, driverSupportsSnapshots: c.driverSupportsSnapshots)
        let result: Result<ResolvedSource, SourceProblem> = check.contentName(reference: Self.reference, snapshot: c.snapshot)
            .flatMap { _ in
                check.resolve(reference: Self.reference, snapshot: c.snapshot ?? Build.snapshot(), content: c.content,
                              claimNamespace: "staging", claimName: "claim", requestedBytes: Quantity.bytes(c.claimSize),
                              claimVolumeMode: c.claimMode)
            }
        switch result {
        case .success(let resolved):
            #expect(c.message == nil, "expected \(c.message ?? "")")
            #expect(resolved.contentSource == VolumeContentSource(type: .snapshot(.init(snapshotId: "snap-handle-1"))))
            #expect(resolved.uid == "s-1")
        case .failure(let problem):
            #expect(problem.message == c.message)
        }
    }

    @Test func aBoundSourceClaimOfThisDriverResolvesToItsVolumeHandle() throws {
        let source = Build.boundClaim()
        let claim = Build.claim()
        let ref = SourceReference(group: "", kind: "PersistentVolumeClaim", namespace: "prod", name: "data")
        let check = CloneSourceCheck(provisioner: Build.driver, driverSupportsClone: true)
        #expect(try check.volumeName(reference: ref, source: source, claim: claim).get() == "pv-data")
        let resolved = try? check.resolve(reference: ref, source: source, volume: Build.volume(claim: source), claim: claim).get()
        #expect(resolved?.contentSource == VolumeContentSource(type: .volume(.init(volumeId: "vol-7"))))
    }

    @Test func cloneSourcesThatAreNotUsableAreRefusedWithUpstreamsTexts() {
        let ref = SourceReference(group: "", kind: "PersistentVolumeClaim", namespace: "prod", name: "data")
        let check = CloneSourceCheck(provisioner: Build.driver, driverSupportsClone: true)
        let wrap = "error getting handle for DataSource Type PersistentVolumeClaim by Name data: "
        var pending = Build.boundClaim()
        pending.status.phase = "Pending"
        #expect(check.volumeName(reference: ref, source: pending, claim: Build.claim()).failure?.message
            == wrap + "the PVC DataSource data must have a status of Bound. Got Pending")
        #expect(check.volumeName(reference: ref, source: Build.boundClaim(size: "2Gi"), claim: Build.claim()).failure?.message
            == wrap + "error, new PVC request must be greater than or equal in size to the specified PVC data source, requested 1073741824 but source is 2147483648")
        let source = Build.boundClaim()
        #expect(check.resolve(reference: ref, source: source, volume: Build.volume(claim: source, driver: "other"),
                              claim: Build.claim()).failure?.message == wrap + "claim in dataSource not bound or invalid")
        #expect(check.resolve(reference: ref, source: source, volume: Build.volume(claim: source, mode: "Block"),
                              claim: Build.claim()).failure?.message
            == wrap + "the source PVC and destination PVCs must have the same volume mode for cloning.  Source is Block.  Destination is Filesystem")
        #expect(CloneSourceCheck(provisioner: Build.driver, driverSupportsClone: false)
            .volumeName(reference: ref, source: source, claim: Build.claim()).failure?.kind == .unsupported)
    }

    @Test(arguments: [("10Gi", Int64(10) << 30), ("1G", 1_000_000_000), ("1.5Gi", Int64(3) << 29), ("100", 100),
                      ("1e3", 1000), ("500Mi", Int64(500) << 20), ("1k", 1000), ("100m", 1)])
    func quantitiesParseToWholeBytesRoundedUp(_ text: String, _ bytes: Int64) {
        #expect(Quantity.bytes(text) == bytes)
    }

    @Test(arguments: ["", "Gi", "1.2.3Gi", "abc", "10Xi", "1e999", "99999999999Ei"])
    func invalidQuantitiesAreRejectedWithoutTrapping(_ text: String) {
        #expect(Quantity.bytes(text) == nil)
    }
}

extension Result {
    var failure: Failure? { if case .failure(let f) = self { f } else { nil } }
}
