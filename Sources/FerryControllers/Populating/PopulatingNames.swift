// Names and annotation keys of the Kopia populating flow (issue 13 item 3). Deterministic names (from the user
// PVC's UID) are what make the flow restartable: every reconcile finds the objects an earlier one created.

public import Kube

/// The objects one population creates, and the keys it writes.
public enum PopulatingNames {
    /// Finalizer on the user's PVC while temporary objects exist (cleanup on deletion).
    public static let finalizer = "ferry.io/populate-target-protection"
    /// User PVC: the snapshot ID pinned at first resolution; every retry restores this one.
    public static let pinnedSnapshotAnnotation = "ferry.io/kopia-snapshot-id"
    /// User PVC: the identity the pinned snapshot belongs to and why it was chosen.
    public static let pinnedReasonAnnotation = "ferry.io/kopia-snapshot-chosen"
    /// Prime PVC: failed populator runs so far (drives the capped backoff).
    public static let failuresAnnotation = "ferry.io/populate-failures"
    /// Prime PVC: when the last failed run was recorded (RFC 3339).
    public static let lastFailureAnnotation = "ferry.io/populate-last-failure"
    /// PV: the reclaim policy it had before Ferry held it at Retain for the claimRef swap.
    public static let heldReclaimAnnotation = "ferry.io/original-reclaim-policy"
    /// Label on every temporary object: the user PVC's UID.
    public static let ownerUIDLabel = "ferry.io/populate-for"
    /// Annotation on the prime PVC and the pod: `<namespace>/<name>` of the user's PVC (their events wake it).
    public static let claimAnnotation = "ferry.io/populate-for-claim"
    /// PV provenance annotations (written at hand-over).
    public static let provenanceSource = "ferry.io/populated-from"
    public static let provenanceRepository = "ferry.io/kopia-repository"
    public static let provenanceSnapshot = "ferry.io/kopia-snapshot-id"
    public static let provenanceIdentity = "ferry.io/kopia-identity"
    public static let provenanceGrant = "ferry.io/reference-grant"
    public static let provenanceClaim = "ferry.io/populated-for"

    /// Mount points inside the populator pod.
    public static let targetMountPath = "/populate/data"
    public static let repositoryMountPath = "/repository"
    public static let caMountPath = "/etc/ferry-ca"
    public static let caFileName = "ca.crt"

    public static func primeClaim(forUID uid: String) -> String { "ferry-prime-\(uid)" }

    /// The user's PVC a temporary object (prime PVC, pod) works for, from its ``claimAnnotation``.
    public static func claimKey(of annotations: [String: String], labels: [String: String]) -> ObjectKey? {
        guard labels[ownerUIDLabel] != nil, let value = annotations[claimAnnotation] else { return nil }
        let parts = value.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return ObjectKey(namespace: parts[0], name: parts[1])
    }
    public static func pod(forUID uid: String) -> String { "ferry-populate-\(uid)" }
    public static func credentials(forUID uid: String) -> String { "ferry-populate-\(uid)" }
}
