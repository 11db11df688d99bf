public import Kube
public import Logging

/// ``ClusterCache`` over informers: claims, links, grants (the served ReferenceGrant version), StorageClasses and
/// VolumeSnapshots, with the secondary indexes the controllers re-enqueue by.
///
/// Memory: claims, links and snapshots — the kinds that grow with the cluster — are held packed
/// (`Informer.Storage.compact`, ≈ 0.3 KiB a claim instead of ≈ 2.8 KiB) and decoded on each read; key-only lookups
/// (`dependents`, `claims(usingLink:)`, `protectedSources`) decode nothing. Every informer drops
/// `metadata.managedFields` (`Informer.droppingManagedFields`): no reconciler reads it, and an update of a cached
/// object without it keeps the server's copy. Nothing else is dropped.
public final class InformerCache: ClusterCache, Sendable {
    public let claims: Informer<PersistentVolumeClaim>
    public let links: Informer<DataSourceLink>?
    public let grantsV1: Informer<ReferenceGrantV1>?
    public let grantsBeta: Informer<ReferenceGrant>?
    public let storageClasses: Informer<StorageClass>
    public let snapshots: Informer<VolumeSnapshot>?
    /// Populator pods (label `ferry.io/populate-for`): their changes wake the user's PVC at once instead of at the
    /// next progress poll. In every namespace when the identity may list/watch pods cluster-wide (the chart's
    /// default ClusterRole), else only in the work namespace (`kopia.ownerNamespaces` grants namespaced Roles);
    /// pods elsewhere (repositoryPVC in an owner namespace) are then polled. Not part of
    /// ``hasSynced``: a wake-up source only (the populator polls anyway), so a refused watch delays nothing.
    public let populatorPods: Informer<Pod>?
    /// CSINodes and Nodes, watched when the driver reports VOLUME_ACCESSIBILITY_CONSTRAINTS (the topology of
    /// CreateVolume, ``AccessibilityRequirements``), like external-provisioner's listers.
    public let csiNodes: Informer<CSINode>?
    public let nodes: Informer<Node>?

    /// Which optional kinds the cluster serves (decided by the startup checks).
    public struct Served: Sendable {
        public var links: Bool
        public var grantVersion: String?  // "v1", "v1beta1" or nil
        public var snapshots: Bool
        /// `ferry.io/v1alpha1` KopiaSnapshots (the owner-side status reconciler runs only then).
        public var kopiaSnapshots: Bool
        public init(links: Bool = true, grantVersion: String? = "v1beta1", snapshots: Bool = true, kopiaSnapshots: Bool = true) {
            self.links = links
            self.grantVersion = grantVersion
            self.snapshots = snapshots
            self.kopiaSnapshots = kopiaSnapshots
        }
    }

    /// - Parameters:
    ///   - populatorNamespace: the Kopia populator's work namespace, whose populator pods are watched; nil for none.
    ///   - populatorPodsInEveryNamespace: watch populator pods in every namespace instead (also those in
    ///     KopiaSnapshot namespaces, for `repositoryPVC`), when the identity may list and watch pods cluster-wide.
    ///   - topology: watch CSINodes and Nodes (the driver reports VOLUME_ACCESSIBILITY_CONSTRAINTS).
    ///   - storage: how claims, links and snapshots are held (compact unless measuring the difference).
    public init(client: KubeClient, served: Served, populatorNamespace: String? = nil,
                populatorPodsInEveryNamespace: Bool = false, topology: Bool = false, storage: InformerStorage = .compact,
                logger: Logger) {
        csiNodes = topology ? Informer(client: client, namespace: nil, transform: Informer.droppingManagedFields, logger: logger) : nil
        nodes = topology ? Informer(client: client, namespace: nil, transform: Informer.droppingManagedFields, logger: logger) : nil
        claims = Informer(client: client, namespace: nil, storage: storage, transform: Informer.droppingManagedFields,
                          logger: logger)
        claims.addIndexer(CacheIndex.bySource, CacheIndex.claimSourceKeys)
        claims.addIndexer(CacheIndex.byDependentSourceNamespace, CacheIndex.dependentClaimSourceNamespaces)
        claims.addIndexer(CacheIndex.byLink, CacheIndex.claimLinkKeys)
        claims.addIndexer(CacheIndex.byDependentSource, CacheIndex.dependentClaimSourceKeys)
        claims.addIndexer(CacheIndex.byDependentLink, CacheIndex.dependentClaimLinkKeys)
        if served.links {
            let l = Informer<DataSourceLink>(client: client, namespace: nil, storage: storage,
                                             transform: Informer.droppingManagedFields,
                                             logger: logger)
            l.addIndexer(CacheIndex.bySource, CacheIndex.linkSourceKeys)
            l.addIndexer(CacheIndex.bySourceNamespace, CacheIndex.linkSourceNamespaces)
            links = l
        } else {
            links = nil
        }
        switch served.grantVersion {
        case "v1":
            let g = Informer<ReferenceGrantV1>(client: client, namespace: nil, transform: Informer.droppingManagedFields, logger: logger)
            g.addNamespaceIndexer()
            grantsV1 = g
            grantsBeta = nil
        case "v1beta1":
            let g = Informer<ReferenceGrant>(client: client, namespace: nil, transform: Informer.droppingManagedFields, logger: logger)
            g.addNamespaceIndexer()
            grantsBeta = g
            grantsV1 = nil
        default:
            grantsV1 = nil
            grantsBeta = nil
        }
        storageClasses = Informer(client: client, namespace: nil, transform: Informer.droppingManagedFields, logger: logger)
        if served.snapshots {
            let s = Informer<VolumeSnapshot>(client: client, namespace: nil, storage: storage,
                                             transform: Informer.droppingManagedFields,
                                             logger: logger)
            s.addIndexer("ferry.protected") { $0.metadata.finalizers.contains(SourceProtection.finalizer) ? ["yes"] : [] }
            snapshots = s
        } else {
            snapshots = nil
        }
        if populatorPodsInEveryNamespace {
            populatorPods = Informer<Pod>(client: client, namespace: nil, labelSelector: PopulatingNames.ownerUIDLabel, logger: logger)
        } else {
            populatorPods = populatorNamespace.map {
                Informer<Pod>(client: client, namespace: $0, labelSelector: PopulatingNames.ownerUIDLabel, logger: logger)
            }
        }
        claims.addIndexer("ferry.protected") { $0.metadata.finalizers.contains(SourceProtection.finalizer) ? ["yes"] : [] }
    }

    /// Runs every informer until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.claims.run() }
            group.addTask { await self.storageClasses.run() }
            if let links { group.addTask { await links.run() } }
            if let grantsV1 { group.addTask { await grantsV1.run() } }
            if let grantsBeta { group.addTask { await grantsBeta.run() } }
            if let snapshots { group.addTask { await snapshots.run() } }
            if let populatorPods { group.addTask { await populatorPods.run() } }
            if let csiNodes { group.addTask { await csiNodes.run() } }
            if let nodes { group.addTask { await nodes.run() } }
        }
    }

    public var hasSynced: Bool {
        claims.hasSynced && storageClasses.hasSynced && (links?.hasSynced ?? true) && (grantsV1?.hasSynced ?? true)
            && (grantsBeta?.hasSynced ?? true) && (snapshots?.hasSynced ?? true) && (csiNodes?.hasSynced ?? true)
            && (nodes?.hasSynced ?? true)
    }

    public func waitForSync() async {
        while !hasSynced, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
    }

    // MARK: ClusterCache

    public func claim(_ key: ObjectKey) -> PersistentVolumeClaim? { claims.get(key) }
    public func storageClass(named name: String) -> StorageClass? { storageClasses.get(name: name, namespace: nil) }
    public func link(_ key: ObjectKey) -> DataSourceLink? { links?.get(key) }
    public func snapshot(_ key: ObjectKey) -> VolumeSnapshot? { snapshots?.get(key) }

    public func grants(in namespace: String) -> [GrantRule] {
        if let grantsV1 { return grantsV1.byNamespace(namespace).map(GrantRule.init) }
        if let grantsBeta { return grantsBeta.byNamespace(namespace).map(GrantRule.init) }
        return []
    }

    public func claims(referencing source: SourceReference) -> [PersistentVolumeClaim] {
        let key = CacheIndex.sourceKey(source)
        var result = claims.byIndex(CacheIndex.bySource, key)
        for link in links?.byIndex(CacheIndex.bySource, key) ?? [] {
            result += claims.byIndex(CacheIndex.byLink, link.key.description)
        }
        return result
    }

    public func dependentClaimKeys(of source: SourceReference) -> [ObjectKey] {
        let key = CacheIndex.sourceKey(source)
        var result = claims.keys(byIndex: CacheIndex.byDependentSource, key)
        for link in links?.keys(byIndex: CacheIndex.bySource, key) ?? [] {
            result += claims.keys(byIndex: CacheIndex.byDependentLink, link.description)
        }
        return result
    }

    public func dependentClaims(of source: SourceReference) -> [PersistentVolumeClaim] {
        // Decoded one by one; the index already holds only dependents, so bound claims are never read.
        dependentClaimKeys(of: source).compactMap { claims.get($0) }.filter(SourceProtection.isDependent)
    }

    public func dependents(ofSourceNamespace namespace: String) -> (claims: [ObjectKey], links: [ObjectKey]) {
        var claimKeys = claims.keys(byIndex: CacheIndex.byDependentSourceNamespace, namespace)
        let linkKeys = links?.keys(byIndex: CacheIndex.bySourceNamespace, namespace) ?? []
        for link in linkKeys { claimKeys += claims.keys(byIndex: CacheIndex.byDependentLink, link.description) }
        return (claimKeys, linkKeys)
    }

    public func claims(usingLink key: ObjectKey) -> [ObjectKey] {
        claims.keys(byIndex: CacheIndex.byLink, key.description)
    }

    public func linkKeys(referencing source: SourceReference) -> [ObjectKey] {
        links?.keys(byIndex: CacheIndex.bySource, CacheIndex.sourceKey(source)) ?? []
    }

    public func nodeTopology(driver: String) -> NodeTopologyView? {
        guard let csiNodes, let nodes else { return nil }
        return NodeTopologyView(driver: driver, csiNodes: csiNodes.list(), nodes: nodes.list())
    }

    public func protectedSources() -> [SourceReference] {
        let snaps = (snapshots?.keys(byIndex: "ferry.protected", "yes") ?? []).map {
            SourceReference(group: SourceReference.volumeSnapshotGroup, kind: "VolumeSnapshot", namespace: $0.namespace ?? "", name: $0.name)
        }
        let pvcs = claims.keys(byIndex: "ferry.protected", "yes").map {
            SourceReference(group: "", kind: "PersistentVolumeClaim", namespace: $0.namespace ?? "", name: $0.name)
        }
        return snaps + pvcs
    }
}
