public import Kopia
public import Kube

/// What a KopiaSnapshot resolves to against one repository's catalog, and the status the controller writes for
/// it (pure: the catalog was read elsewhere).
public struct KopiaSnapshotResolution: Sendable {
    public enum Outcome: Sendable {
        case resolved(SnapshotManifest, reason: String)
        case failed(PopulatingError)
    }

    public let outcome: Outcome
    public let requestedIdentity: String
    /// Complete snapshots of the requested identities (all forms together).
    public let snapshotsFound: Int
    /// The repository's identities (always computed; shown when nothing matches or when asked).
    public let availableIdentities: [AvailableIdentity]

    /// Applies `selection` to `catalog`.
    public init(selection: KopiaSourceSelection, catalog: SnapshotCatalog) {
        requestedIdentity = selection.requestedIdentity
        let patterns = selection.requestedPatterns
        snapshotsFound = catalog.snapshots.filter { s in !s.isIncomplete && patterns.contains { $0.matches(s.source) } }.count
        availableIdentities = Self.identities(of: catalog)
        do {
            let snapshot = try catalog.select(selection.selection)
            outcome = .resolved(snapshot, reason: selection.reason(for: snapshot))
        } catch {
            outcome = .failed(Self.classify(error))
        }
    }

    public var snapshot: SnapshotManifest? {
        if case .resolved(let s, _) = outcome { return s }
        return nil
    }

    /// Every identity of the catalog with its complete-snapshot count and newest start time.
    public static func identities(of catalog: SnapshotCatalog) -> [AvailableIdentity] {
        var bySource: [SnapshotSource: (count: Int, newest: KopiaTime?)] = [:]
        for s in catalog.snapshots where !s.isIncomplete {
            var entry = bySource[s.source] ?? (0, nil)
            entry.count += 1
            if entry.newest.map({ s.startTime > $0 }) ?? true { entry.newest = s.startTime }
            bySource[s.source] = entry
        }
        return bySource.sorted { $0.key < $1.key }.map {
            AvailableIdentity(identity: $0.key.description, snapshots: $0.value.count, newest: $0.value.newest?.description)
        }
    }

    /// Maps an engine error to the populating error (and so to a condition reason).
    public static func classify(_ error: any Error) -> PopulatingError {
        if let e = error as? PopulatingError { return e }
        guard let k = error as? KopiaError else {
            return PopulatingError(.repositoryUnreachable, "\(error)", retry: .transient)
        }
        switch k.code {
        case .wrongPassword: return PopulatingError(.wrongPassword, k.message)
        case .snapshotNotFound: return PopulatingError(.noMatchingSnapshot, k.message)
        case .ambiguousSelection: return PopulatingError(.ambiguousIdentity, k.message)
        case .notARepository, .storageFailure, .blobNotFound:
            return PopulatingError(.repositoryUnreachable, k.message, retry: .transient)
        case .corruptBlob, .truncatedData, .contentNotFound, .corruptContent, .invalidManifest, .invalidDirectory,
             .invalidObjectID:
            return PopulatingError(.damagedRepository, k.message)
        case .invalidArgument: return PopulatingError(.invalidSpec, k.message)
        default: return PopulatingError(.internalError, k.message, retry: k.retry == .transient ? .transient : .permanent)
        }
    }

    /// The status to write. `listIdentities` shows the identities even when the source matches.
    public func status(repository: RepositoryLocation?, generation: Int64?, now: String, listIdentities: Bool,
                       previous: [Condition]) -> KopiaSnapshotStatus {
        var status = KopiaSnapshotStatus()
        status.observedGeneration = generation
        status.requestedIdentity = requestedIdentity
        status.snapshotsFound = snapshotsFound
        status.repository = repository?.description
        status.lastChecked = now
        switch outcome {
        case .resolved(let s, let reason):
            var r = ResolvedSnapshot()
            r.id = s.id
            r.identity = s.source.description
            r.startTime = s.startTime.description
            let totals = s.totals
            r.size = totals.size
            r.files = totals.files
            r.directories = totals.dirs
            status.snapshot = r
            if listIdentities { status.availableIdentities = availableIdentities }
            status.conditions = KopiaSnapshotConditions.ready(
                reason: "Ready", message: "snapshot \(s.id) of \(s.source) started \(s.startTime): \(reason)",
                generation: generation, now: now, previous: previous)
        case .failed(let error):
            status.availableIdentities = availableIdentities
            status.conditions = KopiaSnapshotConditions.notReady(error, generation: generation, now: now,
                                                                 previous: previous)
        }
        return status
    }
}

/// The `Ready` condition of a KopiaSnapshot (the only condition type; the reason carries the cause).
public enum KopiaSnapshotConditions {
    public static func ready(reason: String, message: String, generation: Int64?, now: String,
                             previous: [Condition]) -> [Condition] {
        [condition(status: "True", reason: reason, message: message, generation: generation, now: now, previous: previous)]
    }

    public static func notReady(_ error: PopulatingError, generation: Int64?, now: String,
                                previous: [Condition]) -> [Condition] {
        [condition(status: "False", reason: error.code.reason, message: error.message, generation: generation, now: now,
                   previous: previous)]
    }

    /// The status when the repository could not be opened at all (no resolution attempted).
    public static func status(for error: PopulatingError, requestedIdentity: String?, repository: RepositoryLocation?,
                              generation: Int64?, now: String, previous: [Condition]) -> KopiaSnapshotStatus {
        var status = KopiaSnapshotStatus()
        status.observedGeneration = generation
        status.requestedIdentity = requestedIdentity
        status.repository = repository?.description
        status.lastChecked = now
        status.conditions = notReady(error, generation: generation, now: now, previous: previous)
        return status
    }

    /// The reason of the `Ready` condition while the repository is on a PVC the controller cannot read.
    public static let resolvedByPopulatorReason = "ResolvedByPopulator"

    /// The status of a KopiaSnapshot whose repository is on `spec.repositoryPVC`: only a pod in its namespace can
    /// mount the volume, so the controller does not resolve it; the populator pod does, when a PVC is restored
    /// (Ready `Unknown`, reason `ResolvedByPopulator`). A missing PVC is `RepositoryPVCNotFound` (Ready `False`).
    /// A snapshot a populator already reported (`previous.snapshot`) is kept.
    /// - Parameter pvcPhase: the repository PVC's phase; nil when it does not exist.
    public static func resolvedByPopulator(pvc: String, namespace: String, pvcPhase: String?, requestedIdentity: String?,
                                           repository: RepositoryLocation?, generation: Int64?, now: String,
                                           previous: KopiaSnapshotStatus) -> KopiaSnapshotStatus {
        var status = KopiaSnapshotStatus()
        status.observedGeneration = generation
        status.requestedIdentity = requestedIdentity
        status.repository = repository?.description
        status.lastChecked = now
        status.snapshot = previous.snapshot
        guard let pvcPhase else {
            status.snapshot = nil
            status.conditions = notReady(PopulatingError(.repositoryPVCNotFound,
                "PersistentVolumeClaim \(namespace)/\(pvc) (spec.repositoryPVC) not found: create it, or correct spec.repositoryPVC"),
                generation: generation, now: now, previous: previous.conditions)
            return status
        }
        let waiting = pvcPhase == "Bound" ? "" : " (it is \(pvcPhase) now; the populator pod starts once it is Bound)"
        var last = ""
        if let s = previous.snapshot, let id = s.id {
            last = "; the last one a populator chose was snapshot \(id)\(s.identity.map { " of \($0)" } ?? "")\(s.startTime.map { ", started \($0)" } ?? "")"
        }
        status.conditions = [condition(
            status: "Unknown", reason: resolvedByPopulatorReason,
            message: "the repository is on PersistentVolumeClaim \(namespace)/\(pvc)\(waiting), which only a pod in this namespace can mount: the populator pod resolves the snapshot when a PVC is restored from this KopiaSnapshot, and pins its choice on that PVC (\(PopulatingNames.pinnedSnapshotAnnotation))\(last)",
            generation: generation, now: now, previous: previous.conditions)]
        return status
    }

    /// `previous` with the snapshot a populator pod reported having resolved (repository on a PVC).
    public static func withPopulatorReport(_ report: PopulateReport, previous: KopiaSnapshotStatus) -> KopiaSnapshotStatus {
        var status = previous
        var s = ResolvedSnapshot()
        s.id = report.snapshotID
        s.identity = report.identity
        s.startTime = report.startTime
        if report.bytesTotal > 0 { s.size = report.bytesTotal }
        if report.filesTotal > 0 { s.files = Int64(report.filesTotal) }
        status.snapshot = s
        return status
    }

    /// Whether writing `new` over `old` changes anything a reader sees (`lastChecked` alone does not count).
    public static func differs(_ old: KopiaSnapshotStatus, _ new: KopiaSnapshotStatus) -> Bool {
        var a = old
        var b = new
        a.lastChecked = nil
        b.lastChecked = nil
        return a != b
    }

    /// `lastTransitionTime` moves only when the status changes.
    static func condition(status: String, reason: String, message: String, generation: Int64?, now: String,
                          previous: [Condition]) -> Condition {
        let old = previous.first { $0.type == "Ready" }
        let since = old?.status == status ? (old?.lastTransitionTime ?? now) : now
        return Condition(type: "Ready", status: status, reason: reason, message: message, lastTransitionTime: since,
                         observedGeneration: generation)
    }
}
