/// Entry points of the local control plane.
public enum LocalCluster {
    /// The simulated components `ferry-localcluster up` and `LocalClusterInstance.start` run by default, in start
    /// order: the CSI driver (`DIR/csi.sock` and one node plugin per node), the PV binder, external-provisioner
    /// (with `options.crossNamespaceVolumeDataSource` as its gate), the snapshot controller, the pvc-/pv-protection
    /// controller, the scheduler, and one kubelet per node (`node-1` … `node-N`, `options.nodes`) running pods with
    /// `options.images` over ``ImageTable/defaults``. Each is documented with the upstream behaviour it reproduces and
    /// where it knowingly differs.
    public static func defaultComponents(options: LocalClusterOptions) -> [any ClusterComponent] {
        var components: [any ClusterComponent] = [
            CSIDriverComponent(), PVBinder(), ExternalProvisioner(), SnapshotController(), ProtectionController(),
            Scheduler(),
        ]
        for node in ClusterLayout.nodeNames(options.nodes) { components.append(Kubelet(nodeName: node)) }
        return components
    }
}
