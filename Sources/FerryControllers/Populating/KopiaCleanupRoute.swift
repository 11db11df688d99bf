public import Kube

/// Claims the Kopia populator must still see although routing ignores them: bound or being deleted, but still
/// carrying the populator's finalizer (its temporary objects are not cleaned up yet). Pure.
public enum KopiaCleanupRoute {
    /// The request to hand the populator for cleanup, or nil when the claim is not such a claim.
    public static func request(for claim: PersistentVolumeClaim, cache: any ClusterCache) -> KopiaSourceRequest? {
        guard claim.metadata.finalizers.contains(PopulatingNames.finalizer),
              claim.metadata.deletionTimestamp != nil || !(claim.spec.volumeName ?? "").isEmpty,
              let source = ClaimReconciler.source(of: claim, cache: cache), source.isKopiaSnapshot
        else { return nil }
        let request = GrantRequest(claimNamespace: claim.namespace ?? "", claimName: claim.name, source: source)
        // Cleanup never hands a volume over, so the grant does not matter here.
        return KopiaSourceRequest(request: request, authority: .sameNamespace, link: CacheIndex.link(claim)?.name)
    }
}
