// LocalCluster: Ferry's local control plane for end-to-end tests and the demo (ARCHITECTURE.md §2).
// Folders: APIServer/ (the HTTPS API server, store, validation, CRDs, discovery) and Components/ (simulated PV
// binder, external-provisioner, snapshot controller, scheduler + kubelet, CSI driver with real data).
