import Logging
public import Kube

/// Keeps a DataSourceLink's status current: `Granted` (the grant rule's answer), `Ready` (granted and the source
/// exists and is usable), and `resolvedSource`. Writes only when something changed; transition times are kept.
public struct LinkReconciler: Sendable {
    public init() {}

    public func reconcile(_ key: ObjectKey, context: ReconcileContext) async -> ReconcileOutcome {
        guard let link = context.cache.link(key) else { return .done }
        let desired = Self.status(of: link, context: context)
        if Self.sameConditions(link.status.conditions, desired.conditions) && link.status.object["resolvedSource"] == desired.object["resolvedSource"] {
            return .done
        }
        var updated = link
        updated.status = Self.keepingTransitionTimes(old: link.status, new: desired, now: context.timestamp())
        updated.status.observedGeneration = link.metadata.generation
        do {
            _ = try await context.kube.updateStatus(updated)
            return .done
        } catch where error.code == .notFound {
            return .done
        } catch {
            return .failed(reason: "APIError", final: false)
        }
    }

    /// The status the link should have (pure apart from cache reads).
    static func status(of link: DataSourceLink, context: ReconcileContext) -> FerryStatus {
        var status = FerryStatus()
        guard let target = LinkTarget.reference(link) else {
            status.conditions = [
                Condition(type: "Granted", status: "False", reason: "InvalidSourceRef", message: "spec.sourceRef needs kind and name"),
                Condition(type: "Ready", status: "False", reason: "InvalidSourceRef", message: "spec.sourceRef needs kind and name"),
            ]
            return status
        }
        let request = GrantRequest(claimNamespace: link.namespace ?? "", claimName: link.name, source: target)
        let granted: Condition
        switch context.decideGrant(request) {
        case .allowed(.sameNamespace):
            granted = Condition(type: "Granted", status: "True", reason: "SameNamespace", message: "the source is in the link's namespace")
        case .allowed(.grant(let g)):
            granted = Condition(type: "Granted", status: "True", reason: "ReferenceGrant",
                                message: "allowed by ReferenceGrant \(g.namespace)/\(g.name)")
        case .denied(let denial):
            granted = Condition(type: "Granted", status: "False", reason: denial.reason, message: GrantSuggestion.eventMessage(for: denial))
        }
        var ready = Condition(type: "Ready", status: "False", reason: "NotGranted", message: "waiting for a ReferenceGrant")
        var resolved: JSONObject = ["apiGroup": .string(target.group), "kind": .string(target.kind),
                                    "namespace": .string(target.namespace), "name": .string(target.name)]
        if granted.status == "True" {
            if target.isVolumeSnapshot {
                if let s = context.cache.snapshot(target.key) {
                    resolved["uid"] = .string(s.metadata.uid ?? "")
                    ready = s.status.readyToUse == true
                        ? Condition(type: "Ready", status: "True", reason: "SourceReady", message: "snapshot \(target.name) is ready to use")
                        : Condition(type: "Ready", status: "False", reason: "SourceNotReady", message: "snapshot \(target.name) is not Ready")
                } else {
                    ready = Condition(type: "Ready", status: "False", reason: "SourceNotFound", message: "VolumeSnapshot \(target.namespace)/\(target.name) not found")
                }
            } else if target.isPersistentVolumeClaim {
                if let c = context.cache.claim(target.key) {
                    resolved["uid"] = .string(c.metadata.uid ?? "")
                    ready = c.status.phase == "Bound"
                        ? Condition(type: "Ready", status: "True", reason: "SourceReady", message: "claim \(target.name) is Bound")
                        : Condition(type: "Ready", status: "False", reason: "SourceNotReady", message: "claim \(target.name) is \(c.status.phase ?? "Pending"), not Bound")
                } else {
                    ready = Condition(type: "Ready", status: "False", reason: "SourceNotFound", message: "PersistentVolumeClaim \(target.namespace)/\(target.name) not found")
                }
            } else if target.isKopiaSnapshot {
                ready = Condition(type: "Ready", status: "True", reason: "Granted", message: "the Kopia populator resolves the snapshot")
            } else {
                ready = Condition(type: "Ready", status: "False", reason: "UnsupportedSource", message: "\(target.kind).\(target.group) is not a source Ferry handles")
            }
        }
        status.conditions = [granted, ready]
        status.object["resolvedSource"] = .object(resolved)
        return status
    }

    static func sameConditions(_ a: [Condition], _ b: [Condition]) -> Bool {
        func strip(_ c: [Condition]) -> [String] { c.map { "\($0.type ?? "")|\($0.status ?? "")|\($0.reason ?? "")|\($0.message ?? "")" }.sorted() }
        return strip(a) == strip(b)
    }

    static func keepingTransitionTimes(old: FerryStatus, new: FerryStatus, now: String) -> FerryStatus {
        var out = new
        out.conditions = new.conditions.map { c in
            var c = c
            let previous = old.conditions.first { $0.type == c.type }
            c.lastTransitionTime = previous?.status == c.status ? (previous?.lastTransitionTime ?? now) : now
            return c
        }
        return out
    }
}

/// Removes Ferry's finalizer from a source once no claim depends on it (kubernetes.md §1.10: upstream leaks them).
/// A claim stops depending on its source when it is bound, deleted, or this process has seen its PV `pvc-<uid>`.
public struct SourceProtectionReconciler: Sendable {
    public init() {}

    public func reconcile(_ source: SourceReference, context: ReconcileContext) async -> ReconcileOutcome {
        await context.sourceLocks.withLock(source) { await locked(source, context: context) }
    }

    func locked(_ source: SourceReference, context: ReconcileContext) async -> ReconcileOutcome {
        var pending = false
        for claim in context.cache.dependentClaims(of: source) {
            // Its PV exists (this process created or found it): provisioning is over even if the binder has not
            // bound the claim yet. A claim this process has not seen provisioned still depends on the source —
            // no GET per claim here: after a restart, the claim's own reconcile finds its PV, records it and
            // enqueues the source again (the finalizer goes then, or when the binder binds the claim).
            if let uid = claim.metadata.uid, context.provisionedClaims.contains(uid) { continue }
            pending = true
            break
        }
        guard !pending else { return .done }
        do {
            if try await SourceFinalizer.remove(from: source, kube: context.kube) {
                context.logger.info("source protection released", metadata: ["source": "\(source)"])
            }
            return .done
        } catch {
            return .failed(reason: "APIError", final: false)
        }
    }
}
