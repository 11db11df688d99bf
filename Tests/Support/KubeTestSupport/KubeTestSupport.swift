// KubeTestSupport: the HTTPS test API server now lives in LocalCluster (Sources/LocalCluster/APIServer); this target
// re-exports it so client tests keep their imports.
@_exported public import HTTPTestSupport
@_exported public import LocalCluster
public import Kube

extension KubeAPIServer {
    /// A server for client tests: namespaces `default` and `kube-system`, and (when `installCRDs`) schema-less CRDs of
    /// snapshots, ReferenceGrants and Ferry's kinds.
    public convenience init(installCRDs: Bool, bookmarkInterval: Duration = .milliseconds(500),
                            crossNamespaceVolumeDataSource: Bool = false, behaviour: Behaviour = .bare) throws {
        try self.init(bookmarkInterval: bookmarkInterval, crossNamespaceVolumeDataSource: crossNamespaceVolumeDataSource,
                      behaviour: behaviour)
        if installCRDs {
            for t in Self.knownTypes where !Self.isBuiltIn(t) { try installCRD(for: t) }
        }
    }
}
