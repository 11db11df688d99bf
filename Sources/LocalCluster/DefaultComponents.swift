/// Entry points of the local control plane.
public enum LocalCluster {
    /// The simulated components `ferry-localcluster up` and `LocalClusterInstance.start` run by default (PV binder,
    /// external-provisioner, snapshot controller, scheduler + kubelet, CSI driver), in start order.
    public static func defaultComponents(options: LocalClusterOptions) -> [any ClusterComponent] {
        []
    }
}
