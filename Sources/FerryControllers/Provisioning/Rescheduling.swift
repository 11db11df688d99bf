public import Kube

/// Giving a claim back to the scheduler (external-provisioner's `ProvisioningReschedule`; kubernetes.md §1.7). Pure.
///
/// Upstream (kubernetes-csi/external-provisioner `pkg/controller/controller.go`, sig-storage-lib-external-provisioner
/// v13 `controller/controller.go`):
/// - `Provision` answers `ProvisioningReschedule` when CreateVolume fails with RESOURCE_EXHAUSTED while the driver
///   reports VOLUME_ACCESSIBILITY_CONSTRAINTS and the claim names a selected node (`checkError(err, mayReschedule)`),
///   and when `GenerateAccessibilityRequirements` fails with NotFound (the selected node's CSINode is missing).
///   INVALID_ARGUMENT never reschedules: the library handles it first, as "infeasible".
/// - The library's `provisionVolumeErrorHandling` then emits the Warning `ProvisioningFailed` with the error text
///   (no extra event for the rescheduling), and `rescheduleProvisioning` removes
///   `volume.kubernetes.io/selected-node` with an Update of the claim it was working on (optimistic concurrency).
///   Done → the claim is dropped from the queue (`errStopProvision`); the scheduler picks a node again and sets the
///   annotation anew, which brings the claim back. The Update failed → logged ("Volume rescheduling failed") and
///   retried like a final error.
/// - A claim without the annotation is left as it is (provisioning was not triggered by the scheduler).
public enum Rescheduling {
    public static let selectedNodeAnnotation = "volume.kubernetes.io/selected-node"

    /// The claim as `rescheduleProvisioning` writes it back: without `volume.kubernetes.io/selected-node`, everything
    /// else (resourceVersion included) unchanged. nil when the claim carries no such annotation (nothing to undo).
    public static func claimForScheduler(_ claim: PersistentVolumeClaim) -> PersistentVolumeClaim? {
        guard claim.metadata.annotations[selectedNodeAnnotation] != nil else { return nil }
        var updated = claim
        updated.metadata.annotations[selectedNodeAnnotation] = nil
        return updated
    }

    /// Whether a failed CreateVolume may give the claim back to the scheduler (`mayReschedule` of `Provision`): the
    /// driver supports topology and the claim names a selected node (WaitForFirstConsumer).
    public static func mayReschedule(driverSupportsTopology: Bool, selectedNode: String?) -> Bool {
        driverSupportsTopology && !(selectedNode ?? "").isEmpty
    }
}
