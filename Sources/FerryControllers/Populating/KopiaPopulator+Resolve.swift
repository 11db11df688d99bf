import Foundation
import Kopia
import Kube
import Logging

extension KopiaPopulator {
    struct Resolved: Sendable {
        var resolution: PopulateObservation.Resolution
        var credentials: RepositoryCredentials?
        /// The status write failed (a conflict with a newer copy of the KopiaSnapshot, or an API error): the
        /// owner-side reconciler looks again soon.
        var statusWriteFailed = false
        /// The key the password derived for the opened repository (handed to the pod instead of the password).
        var repositoryKey: RepositoryKey?
    }

    /// Reads the repository Secret (and CA), opens the repository through the cache, and resolves: the pinned ID
    /// when the claim has one (gone → `SnapshotGone`), else the spec. Keeps the KopiaSnapshot's status current.
    ///
    /// - Parameter freshAsOf: the cached index must have been read at or after this instant (a claim resolved
    ///   for the first time passes its creation, ``KopiaIndexFreshness``); nil accepts the cache's refresh
    ///   interval (a pinned claim, the owner-side status reconciler).
    func resolve(_ ks: KopiaSnapshot, pinned: String?, freshAsOf: ContinuousClock.Instant?, context: ReconcileContext) async
        -> Resolved {
        let ns = ks.namespace ?? ""
        let credentials: RepositoryCredentials
        do {
            credentials = try await loadCredentials(ks, context: context)
        } catch {
            let e = KopiaSnapshotResolution.classify(error)
            let ok = await writeStatus(ks, KopiaSnapshotConditions.status(for: e, requestedIdentity: nil, repository: nil,
                                                                          generation: ks.metadata.generation, now: context.timestamp(),
                                                                          previous: ks.status.conditions), context: context)
            return Resolved(resolution: .failed(e), credentials: nil, statusWriteFailed: !ok)
        }
        if let pvc = ks.spec.repositoryPVC {
            // Only a pod in the owner's namespace can mount the repository; the pod resolves and reports.
            let requested = (try? KopiaSourceSelection(spec: ks.spec, namespace: ns))?.requestedIdentity
            let claim = context.cache.claim(ObjectKey(namespace: ns, name: pvc))
            let status = KopiaSnapshotConditions.resolvedByPopulator(
                pvc: pvc, namespace: ns, pvcPhase: claim.map { $0.status.phase ?? "Pending" }, requestedIdentity: requested,
                repository: credentials.location, generation: ks.metadata.generation, now: context.timestamp(),
                previous: ks.status)
            let ok = await writeStatus(ks, status, context: context)
            guard claim != nil else {
                return Resolved(resolution: .failed(PopulatingError(.repositoryPVCNotFound,
                    "PersistentVolumeClaim \(ns)/\(pvc) (spec.repositoryPVC) not found: the repository's volume must be a PVC in the KopiaSnapshot's namespace")),
                                credentials: credentials, statusWriteFailed: !ok)
            }
            return Resolved(resolution: .deferredToPod, credentials: credentials, statusWriteFailed: !ok)
        }
        let selection: KopiaSourceSelection
        do {
            selection = try KopiaSourceSelection(spec: ks.spec, namespace: ns)
        } catch {
            let ok = await writeStatus(ks, KopiaSnapshotConditions.status(for: error, requestedIdentity: nil, repository: credentials.location,
                                                                          generation: ks.metadata.generation, now: context.timestamp(),
                                                                          previous: ks.status.conditions), context: context)
            return Resolved(resolution: .failed(error), credentials: credentials, statusWriteFailed: !ok)
        }
        let repo: KopiaRepository
        do {
            let key = RepositoryCache.Key(namespace: ns, secret: ks.spec.repository ?? "",
                                          secretVersion: credentials.secretVersion,
                                          caDigest: credentials.caBundle?.hashValue ?? 0)
            repo = try await repositories.repository(key, credentials: credentials, freshAsOf: freshAsOf)
        } catch {
            var e = KopiaSnapshotResolution.classify(error)
            if e.code == .wrongPassword {
                e.message = "KOPIA_PASSWORD in Secret \(ns)/\(ks.spec.repository ?? "") does not open repository \(credentials.location) (\(e.message)): correct the Secret; a new version of it is tried at once"
            }
            let ok = await writeStatus(ks, KopiaSnapshotConditions.status(for: e, requestedIdentity: selection.requestedIdentity,
                                                                          repository: credentials.location, generation: ks.metadata.generation,
                                                                          now: context.timestamp(), previous: ks.status.conditions), context: context)
            return Resolved(resolution: .failed(e), credentials: credentials, statusWriteFailed: !ok)
        }
        let resolution = KopiaSnapshotResolution(selection: selection, catalog: repo.catalog)
        let written = await writeStatus(ks, resolution.status(repository: credentials.location, generation: ks.metadata.generation,
                                                              now: context.timestamp(), listIdentities: ks.spec.listIdentities ?? false,
                                                              previous: ks.status.conditions), context: context)
        if let pinned {
            guard let s = try? repo.select(.id(pinned)), s.id == pinned else {
                // Gone from the index, or the whole repository gone (a vanished directory lists as empty)?
                do { _ = try await repo.storage.metadata(FormatBlob.blobID) } catch {
                    return Resolved(resolution: .failed(PopulatingError(.repositoryUnreachable,
                        "repository \(credentials.location) is gone or unreadable: its \(FormatBlob.blobID) blob cannot be read (\(error))",
                        retry: .transient)), credentials: credentials)
                }
                return Resolved(resolution: .failed(PopulatingError(.snapshotGone,
                    "snapshot \(pinned), pinned on this PVC when it was first resolved, is no longer in \(credentials.location); delete and re-create the PVC to restore another snapshot")),
                                credentials: credentials)
            }
            return Resolved(resolution: .snapshot(Self.facts(s, reason: "pinned on the PVC (\(PopulatingNames.pinnedSnapshotAnnotation))")),
                            credentials: credentials, repositoryKey: repo.format.repositoryKey)
        }
        switch resolution.outcome {
        case .resolved(let s, let reason):
            return Resolved(resolution: .snapshot(Self.facts(s, reason: reason)), credentials: credentials, statusWriteFailed: !written,
                            repositoryKey: repo.format.repositoryKey)
        case .failed(let e): return Resolved(resolution: .failed(e), credentials: credentials, statusWriteFailed: !written)
        }
    }

    static func facts(_ s: SnapshotManifest, reason: String) -> ResolvedSnapshotFacts {
        let totals = s.totals
        return ResolvedSnapshotFacts(id: s.id, identity: s.source.description, startTime: s.startTime.description,
                                     size: totals.size, files: totals.files, reason: reason)
    }

    /// The Secret's keys (and the customCA's bytes); never the process environment.
    func loadCredentials(_ ks: KopiaSnapshot, context: ReconcileContext) async throws -> RepositoryCredentials {
        let ns = ks.namespace ?? ""
        guard let name = ks.spec.repository, !name.isEmpty else {
            throw PopulatingError(.invalidSpec, "spec.repository must name a Secret in namespace \(ns)")
        }
        guard let secret = try await context.kube.getIfPresent(Secret.self, name: name, namespace: ns) else {
            throw PopulatingError(.secretNotFound, "Secret \(ns)/\(name) (spec.repository) not found")
        }
        var ca: [UInt8]?
        if let customCA = ks.spec.customCA {
            let key = customCA.key ?? ""
            if let secretName = customCA.secretName {
                guard let s = try await context.kube.getIfPresent(Secret.self, name: secretName, namespace: ns) else {
                    throw PopulatingError(.secretNotFound, "Secret \(ns)/\(secretName) (spec.customCA) not found")
                }
                guard let bytes = s.decodedData[key] else {
                    throw PopulatingError(.invalidSecret, "Secret \(ns)/\(secretName) has no key \(key) (spec.customCA.key)")
                }
                ca = bytes
            } else if let mapName = customCA.configMapName {
                guard let m = try await context.kube.getIfPresent(ConfigMap.self, name: mapName, namespace: ns) else {
                    throw PopulatingError(.secretNotFound, "ConfigMap \(ns)/\(mapName) (spec.customCA) not found")
                }
                guard let text = m.data[key] else {
                    throw PopulatingError(.invalidSecret, "ConfigMap \(ns)/\(mapName) has no key \(key) (spec.customCA.key)")
                }
                ca = Array(text.utf8)
            }
        }
        return try RepositoryCredentials(secret: secret, repositoryPVC: ks.spec.repositoryPVC, caBundle: ca)
    }

    /// Writes the status when it changed (ignoring `lastChecked`); false when the write failed (a conflict is
    /// left to the next reconcile).
    @discardableResult
    func writeStatus(_ ks: KopiaSnapshot, _ status: KopiaSnapshotStatus, context: ReconcileContext) async -> Bool {
        guard KopiaSnapshotConditions.differs(ks.status, status) else { return true }
        var updated = ks
        updated.status = status
        do { _ = try await context.kube.updateStatus(updated) } catch {
            context.logger.debug("KopiaSnapshot status not written", metadata: [
                "kopiasnapshot.namespace": "\(ks.namespace ?? "")", "kopiasnapshot.name": "\(ks.name)", "error": "\(error)",
            ])
            return false
        }
        return true
    }
}
