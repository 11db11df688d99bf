import ControllerTestSupport
import CurlHTTP
import FerryControllers
import Foundation
import Kopia
import KopiaTestSupport
import Kube
import Logging
import Testing

/// The Kopia populator through the controller runtime's claim reconciler, against the in-memory API and the real
/// fs-identities repository; the PV binder and the kubelet are played by the test, step by step.
struct KopiaPopulatorFlowTests {
    /// One S3 client for the suite (no S3 server is needed except by the unreachable case).
    static let http: HTTPClient = {
        do { return try HTTPClient(logger: Logger(label: "test")) } catch { fatalError("libcurl: \(error)") }
    }()

    final class World: Sendable {
        let cluster = InMemoryCluster()
        let context: ReconcileContext
        let populator: KopiaPopulator
        let claimKey = ObjectKey(namespace: "staging", name: "webapp-data")

        init(crossNamespace: Bool = true, storage: String = "1Gi", repository: String? = nil) {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            context = ReconcileContext(
                kube: cluster, cache: cluster, csi: nil, feedback: Feedback(sink: cluster), metrics: ControllerMetrics(),
                configuration: ControllerConfiguration(driver: nil, featureGates: FeatureGates(crossNamespaceVolumeDataSource: true)),
                logger: logger, now: { Date(timeIntervalSince1970: 1_800_000_000) }, provisionerIdentity: "1-1-test")
            populator = KopiaPopulator(settings: .init(workNamespace: "ferry-system", image: "ferry:test"),
                                       repositories: RepositoryCache(httpClient: KopiaPopulatorFlowTests.http, logger: logger))
            var sc = StorageClass(name: "fast")
            sc.provisioner = "local.csi.ferry.io"
            sc.volumeBindingMode = "Immediate"
            cluster.put(sc)
            var secret = Secret(name: "kopia-config", namespace: "production")
            secret.data = ["KOPIA_REPOSITORY": repository ?? "filesystem://" + Fixtures.kopia("fs-identities").path,
                           "KOPIA_PASSWORD": Fixtures.password].mapValues { Data($0.utf8).base64EncodedString() }
            cluster.put(secret)
            var ks = KopiaSnapshot(name: "webapp", namespace: "production")
            ks.spec.repository = "kopia-config"
            ks.spec.sourceIdentity.sourceName = "webapp-backup"
            ks.spec.sourceIdentity.sourceNamespace = "production"
            cluster.put(ks)
            var claim = PersistentVolumeClaim(name: "webapp-data", namespace: crossNamespace ? "staging" : "production")
            claim.spec.accessModes = ["ReadWriteOnce"]
            claim.spec.storageClassName = "fast"
            claim.spec.resources.requests = ["storage": storage]
            var ref = TypedObjectReference()
            ref.apiGroup = "ferry.io"
            ref.kind = "KopiaSnapshot"
            ref.name = "webapp"
            if crossNamespace { ref.namespace = "production" }
            claim.spec.dataSourceRef = ref
            cluster.put(claim)
        }

        var key: ObjectKey { ObjectKey(namespace: claim?.namespace ?? "staging", name: "webapp-data") }
        var claim: PersistentVolumeClaim? {
            cluster.claim(claimKey) ?? cluster.claim(ObjectKey(namespace: "production", name: "webapp-data"))
        }
        var uid: String { claim?.metadata.uid ?? "" }

        func grant() {
            var g = ReferenceGrant(name: "staging-may-restore", namespace: "production")
            var from = ReferenceGrantFrom()
            from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
            g.spec.from = [from]
            var to = ReferenceGrantTo()
            to.group = "ferry.io"; to.kind = "KopiaSnapshot"
            g.spec.to = [to]
            cluster.put(g)
        }

        func reconcile() async -> ReconcileOutcome {
            await ClaimReconciler(kopia: populator).reconcile(key, context: context)
        }

        /// The provisioner and PV binder: the prime PVC gets a PV.
        func provisionPrime() {
            guard var prime = cluster.object(PersistentVolumeClaim.self, ObjectKey(namespace: "ferry-system", name: "ferry-prime-\(uid)")) else { return }
            var pv = PersistentVolume(name: "pv-prime")
            pv.spec.persistentVolumeReclaimPolicy = "Delete"
            pv.spec.capacity = ["storage": "1Gi"]
            pv.spec.claimRef = ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: "ferry-system",
                                               name: prime.name, uid: prime.metadata.uid)
            cluster.put(pv)
            prime.spec.volumeName = "pv-prime"
            prime.status.phase = "Bound"
            cluster.put(prime)
        }

        /// The kubelet: the populator pod ends with `ferry populate`'s report as its termination message.
        func finishPod(_ phase: String, report: PopulateReport) {
            guard var pod = cluster.object(Pod.self, ObjectKey(namespace: "ferry-system", name: "ferry-populate-\(uid)")) else { return }
            pod.status.phase = phase
            pod.status.object["containerStatuses"] = [["name": "populate", "state": ["terminated": [
                "exitCode": .int(phase == "Succeeded" ? 0 : 5), "message": .string(report.encodedLine())]]]]
            cluster.put(pod)
        }

        /// The PV binder: a pre-bound PV binds its claim.
        func bindUserClaim() {
            guard var c = claim, let pv = cluster.object(PersistentVolume.self, ObjectKey(namespace: nil, name: "pv-prime")),
                  pv.spec.claimRef?.uid == c.metadata.uid else { return }
            c.spec.volumeName = pv.name
            c.status.phase = "Bound"
            cluster.put(c)
        }

        var workObjects: (prime: Bool, pod: Bool, secret: Bool) {
            let u = uid
            return (cluster.object(PersistentVolumeClaim.self, ObjectKey(namespace: "ferry-system", name: "ferry-prime-\(u)")) != nil,
                    cluster.object(Pod.self, ObjectKey(namespace: "ferry-system", name: "ferry-populate-\(u)")) != nil,
                    cluster.object(Secret.self, ObjectKey(namespace: "ferry-system", name: "ferry-populate-\(u)")) != nil)
        }
    }

    @Test func aCrossNamespaceClaimIsPopulatedAndHandedOverWithTheCredentialsNeverInItsNamespace() async throws {
        let w = World()
        w.grant()
        // 1. First resolution: the newest webapp-backup-production snapshot is pinned on the claim.
        _ = await w.reconcile()
        #expect(w.claim?.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == "8acd6104b18c10046f4878a3f3284e18")
        let ks = try #require(w.cluster.object(KopiaSnapshot.self, ObjectKey(namespace: "production", name: "webapp")))
        #expect(ks.status.snapshot?.id == "8acd6104b18c10046f4878a3f3284e18")
        #expect(ks.status.conditions.first?.reason == "Ready")
        // 2. Prime PVC, credentials Secret and pod in Ferry's namespace.
        _ = await w.reconcile()
        #expect(w.workObjects == (true, true, true))
        #expect(w.claim?.metadata.finalizers.contains(PopulatingNames.finalizer) == true)
        let pod = try #require(w.cluster.object(Pod.self, ObjectKey(namespace: "ferry-system", name: "ferry-populate-\(w.uid)")))
        let args: [String] = pod.spec.containers.first?["args"] ?? []
        #expect(args.contains("8acd6104b18c10046f4878a3f3284e18"))
        #expect(!args.joined().contains(Fixtures.password))
        // 3. The pod succeeds on a provisioned prime: Retain, claimRef swap, provenance; the Secret goes at once.
        w.provisionPrime()
        var report = PopulateReport(state: .succeeded, snapshotID: "8acd6104b18c10046f4878a3f3284e18")
        report.identity = "webapp-backup-production@production:/data"
        report.bytesDone = 170_180; report.bytesTotal = 170_180; report.filesDone = 6; report.filesTotal = 6
        w.finishPod("Succeeded", report: report)
        _ = await w.reconcile()
        let pv = try #require(w.cluster.object(PersistentVolume.self, ObjectKey(namespace: nil, name: "pv-prime")))
        #expect(pv.spec.claimRef?.namespace == "staging" && pv.spec.claimRef?.uid == w.uid)
        #expect(pv.spec.persistentVolumeReclaimPolicy == "Retain")
        #expect(pv.metadata.annotations[PopulatingNames.heldReclaimAnnotation] == "Delete")
        #expect(pv.metadata.annotations[PopulatingNames.provenanceSnapshot] == "8acd6104b18c10046f4878a3f3284e18")
        #expect(pv.metadata.annotations[PopulatingNames.provenanceGrant] == "production/staging-may-restore")
        #expect(pv.metadata.annotations[PopulatingNames.provenanceSource] == "production/webapp")
        #expect(pv.metadata.annotations[PopulatingNames.provenanceRepository]?.hasPrefix("filesystem://") == true)
        #expect(w.workObjects.secret == false)
        // 4. Bound: reclaim policy back, temporary objects gone, finalizer released.
        w.bindUserClaim()
        #expect(await w.reconcile() == .done)
        let after = try #require(w.cluster.object(PersistentVolume.self, ObjectKey(namespace: nil, name: "pv-prime")))
        #expect(after.spec.persistentVolumeReclaimPolicy == "Delete")
        #expect(after.metadata.annotations[PopulatingNames.heldReclaimAnnotation] == nil)
        #expect(w.workObjects == (false, false, false))
        #expect(w.claim?.metadata.finalizers.contains(PopulatingNames.finalizer) == false)
        let reasons = w.cluster.events.map(\.reason)
        #expect(reasons == ["SnapshotChosen", "PopulatorCreated", "Populated", "PopulatorFinished"])
        // The credentials Secret never existed outside the owner's and the work namespace; no event leaks them.
        #expect(w.cluster.all(Secret.self).allSatisfy { ["production", "ferry-system"].contains($0.namespace ?? "") })
        #expect(w.cluster.writes.contains("create secrets"))
        #expect(!w.cluster.events.contains { $0.message.contains(Fixtures.password) })
    }

    @Test func withoutAGrantNothingIsCreatedAndTheGrantUnblocksIt() async {
        let w = World()
        #expect(await w.reconcile() == .waiting(reason: "ReferenceGrantMissing"))
        #expect(w.workObjects == (false, false, false))
        #expect(w.claim?.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == nil)
        w.grant()
        _ = await w.reconcile()
        #expect(w.claim?.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == "8acd6104b18c10046f4878a3f3284e18")
    }

    @Test func aGrantRevokedBeforeHandOverStopsEverythingAndNothingIsBound() async throws {
        let w = World()
        w.grant()
        _ = await w.reconcile()
        _ = await w.reconcile()
        w.provisionPrime()
        w.finishPod("Succeeded", report: PopulateReport(state: .succeeded, snapshotID: "8acd6104b18c10046f4878a3f3284e18"))
        w.cluster.remove(ReferenceGrant.self, ObjectKey(namespace: "production", name: "staging-may-restore"))
        _ = await w.reconcile()
        let pv = try #require(w.cluster.object(PersistentVolume.self, ObjectKey(namespace: nil, name: "pv-prime")))
        #expect(pv.spec.claimRef?.namespace == "ferry-system")
        #expect(w.claim?.status.phase != "Bound")
        #expect(w.cluster.events.contains { $0.type == "Warning" && $0.message.contains("isn't allowed") })
    }

    @Test func aFailedPodIsReportedRetriedWithBackoffAndItsSecretRemoved() async throws {
        let w = World()
        w.grant()
        _ = await w.reconcile()
        _ = await w.reconcile()
        w.provisionPrime()
        var report = PopulateReport(state: .failed, snapshotID: "8acd6104b18c10046f4878a3f3284e18")
        report.reason = "DamagedRepository"
        report.message = "restore of snapshot 8acd6104 failed for 1 path(s); first: logs/access.log: blob p4a1a fails authentication"
        w.finishPod("Failed", report: report)
        let outcome = await w.reconcile()
        #expect(outcome == .requeue(after: .seconds(2)))
        #expect(w.workObjects == (true, false, false))
        let warning = try #require(w.cluster.events.last)
        #expect(warning.reason == "PopulatorFailed")
        #expect(warning.message == "Populator failed: " + (report.message ?? ""))
        let prime = try #require(w.cluster.object(PersistentVolumeClaim.self, ObjectKey(namespace: "ferry-system", name: "ferry-prime-\(w.uid)")))
        #expect(prime.metadata.annotations[PopulatingNames.failuresAnnotation] == "1")
        #expect(w.claim?.status.phase != "Bound")
    }

    @Test func aWrongPasswordIsReportedOnTheClaimAndTheKopiaSnapshotAndNothingIsCreated() async throws {
        let w = World(crossNamespace: false)
        var secret = try #require(w.cluster.object(Secret.self, ObjectKey(namespace: "production", name: "kopia-config")))
        secret.data["KOPIA_PASSWORD"] = Data("wrong".utf8).base64EncodedString()
        w.cluster.put(secret)
        _ = await w.reconcile()
        #expect(w.workObjects == (false, false, false))
        #expect(w.cluster.events.last?.reason == "WrongPassword")
        let ks = try #require(w.cluster.object(KopiaSnapshot.self, ObjectKey(namespace: "production", name: "webapp")))
        #expect(ks.status.conditions.first?.reason == "WrongPassword")
        #expect(ks.status.conditions.first?.status == "False")
    }

    @Test func anUnreachableRepositoryFailsClosed() async throws {
        let w = World(crossNamespace: false, repository: "s3://no-such-bucket/x")
        var secret = try #require(w.cluster.object(Secret.self, ObjectKey(namespace: "production", name: "kopia-config")))
        secret.data["AWS_S3_ENDPOINT"] = Data("http://127.0.0.1:9".utf8).base64EncodedString()
        secret.data["AWS_ACCESS_KEY_ID"] = Data("AK".utf8).base64EncodedString()
        secret.data["AWS_SECRET_ACCESS_KEY"] = Data("SK".utf8).base64EncodedString()
        secret.data["AWS_REGION"] = Data("us-east-1".utf8).base64EncodedString()
        w.cluster.put(secret)
        let outcome = await w.reconcile()
        if case .requeue = outcome {} else { Issue.record("expected a backoff requeue, got \(outcome)") }
        #expect(w.workObjects == (false, false, false))
        #expect(w.cluster.events.last?.reason == "RepositoryUnreachable")
    }

    @Test func aClaimTooSmallForTheSnapshotIsRefusedBeforeAnythingIsRestored() async {
        let w = World(crossNamespace: false, storage: "100k")
        _ = await w.reconcile()
        _ = await w.reconcile()
        #expect(w.workObjects == (false, false, false))
        #expect(w.cluster.events.last?.reason == "VolumeTooSmall")
    }

    @Test func deletingTheClaimMidPopulationRemovesEveryTemporaryObject() async throws {
        let w = World()
        w.grant()
        _ = await w.reconcile()
        _ = await w.reconcile()
        #expect(w.workObjects == (true, true, true))
        try await w.cluster.delete(PersistentVolumeClaim.self, name: "webapp-data", namespace: "staging")
        #expect(w.claim?.metadata.deletionTimestamp != nil)
        _ = await w.reconcile()
        #expect(w.workObjects == (false, false, false))
        #expect(w.claim == nil)
    }

    @Test func aPinnedSnapshotThatDisappearedIsSnapshotGone() async throws {
        let w = World(crossNamespace: false)
        var c = try #require(w.claim)
        c.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] = "a60041a147b8a8e60378dd83a857aa35"
        w.cluster.put(c)
        _ = await w.reconcile()
        #expect(w.workObjects == (false, false, false))
        #expect(w.cluster.events.last?.reason == "SnapshotGone")
    }
}
