import Logging
public import Kube

/// Reconciles one PersistentVolumeClaim: routes it (``ClaimRoute``), applies the grant rule, and hands it to the
/// CSI provisioner or the Kopia reconciler. Level-triggered: everything is read again on every call.
public struct ClaimReconciler: Sendable {
    public var provisioner = CSIProvisioner()
    public var kopia: (any KopiaClaimReconciling)?

    public init(kopia: (any KopiaClaimReconciling)? = nil) {
        self.kopia = kopia
    }

    public func reconcile(_ key: ObjectKey, context: ReconcileContext) async -> ReconcileOutcome {
        guard let claim = context.cache.claim(key) else { return .done }
        if let kopia, let cleanup = KopiaCleanupRoute.request(for: claim, cache: context.cache) {
            // The populator still holds temporary objects for a claim that is bound or being deleted.
            return await kopia.reconcile(claim: claim, source: cleanup, context: context)
        }
        let storageClass = claim.spec.storageClassName.flatMap { context.cache.storageClass(named: $0) }
        var route = ClaimRoute.decide(claim: claim, storageClass: storageClass, driverName: context.configuration.driver?.name)
        if case .ignore = route, kopia != nil, context.configuration.driver == nil,
           CacheIndex.link(claim) != nil, claim.metadata.deletionTimestamp == nil, (claim.spec.volumeName ?? "").isEmpty {
            // Standalone (no CSI socket): links still serve Kopia sources for any StorageClass.
            route = .link(CacheIndex.link(claim) ?? key)
        }
        if case .link(let linkKey) = route {
            var link = context.cache.link(linkKey)
            if link == nil, linkKey.namespace == claim.namespace {
                // Not cached (yet): a link applied together with its claim may reach the cache after the claim.
                // Ask the API server before telling the user it does not exist.
                do {
                    link = try await optional { () async throws(KubeError) in
                        try await context.kube.get(DataSourceLink.self, name: linkKey.name, namespace: linkKey.namespace)
                    }
                } catch {
                    return .failed(reason: "APIError", final: false)
                }
            }
            switch ClaimRoute.decide(claim: claim, link: link, linkKey: linkKey) {
            case .success(let next): route = next
            case .failure(let problem):
                await context.feedback.report(claim.reference, type: .warning, reason: EventReason.provisioningFailed,
                                              message: problem.message)
                return .waiting(reason: problem.reason)
            }
        }
        switch route {
        case .ignore, .link:
            return .done
        case .unsupported(let message):
            await context.feedback.report(claim.reference, type: .warning, reason: EventReason.provisioningFailed, message: message)
            return .waiting(reason: "UnsupportedSource")
        case .native(let request):
            // external-provisioner's claim: Ferry only explains a denial, once, with the grant that would fix it.
            let decision = GrantDecision.decideNative(request, gateEnabled: context.configuration.featureGates.crossNamespaceVolumeDataSource,
                                                      grants: context.cache.grants(in: request.source.namespace))
            if case .denied(let denial) = decision {
                context.metrics.increment("ferry_grant_denials_total", ["reason": denial.reason])
                await context.feedback.report(claim.reference, type: .warning, reason: EventReason.referenceGrantMissing,
                                              message: GrantSuggestion.eventMessage(for: denial))
                return .waiting(reason: denial.reason)
            }
            return .done
        case .csi(let request, let link):
            guard context.configuration.driver != nil else { return .done }
            return await provisioner.reconcile(claim: claim, request: request, link: link, context: context)
        case .kopia(let request, let link):
            let gate = link != nil || context.configuration.featureGates.crossNamespaceVolumeDataSource
            let decision = GrantDecision.decideNative(request, gateEnabled: gate, grants: context.cache.grants(in: request.source.namespace))
            switch decision {
            case .denied(let denial):
                context.metrics.increment("ferry_grant_denials_total", ["reason": denial.reason])
                await context.feedback.report(claim.reference, type: .warning, reason: EventReason.provisioningFailed,
                                              message: GrantSuggestion.eventMessage(for: denial))
                return .waiting(reason: denial.reason)
            case .allowed(let authority):
                guard let kopia else { return .waiting(reason: "NoKopiaPopulator") }
                return await kopia.reconcile(claim: claim, source: KopiaSourceRequest(request: request, authority: authority, link: link),
                                             context: context)
            }
        }
    }

    /// The source a claim's provisioning depends on (direct or through its link), for source protection.
    public static func source(of claim: PersistentVolumeClaim, cache: any ClusterCache) -> SourceReference? {
        if let direct = CacheIndex.directSource(claim) { return direct }
        if let linkKey = CacheIndex.link(claim), let link = cache.link(linkKey) { return LinkTarget.reference(link) }
        return nil
    }
}
