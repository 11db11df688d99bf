public import Kube

/// One step the executor performs for a populated PVC (output of `PopulateDecider`). Each is idempotent: an
/// object that already exists, or is already gone, counts as done.
public enum PopulateAction: Sendable, Equatable {
    /// Pin the snapshot on the user's PVC (annotation) so every retry restores the same data.
    case pinSnapshot(id: String, reason: String)
    case addFinalizer
    case removeFinalizer
    /// The prime PVC in the work namespace: same class, size, access modes, volumeMode; selected-node copied.
    case createPrime
    /// The short-lived Secret with the repository credentials, in the work namespace.
    case createCredentials
    case createPod(snapshotID: String?)
    case deletePod
    case deleteCredentials
    case deletePrime
    /// Count a failed run on the prime PVC (capped backoff survives restarts).
    case recordFailure(count: Int)
    /// Hold the PV at Retain (saving its policy) before moving its claimRef.
    case holdReclaim(volume: String, original: String)
    /// Move the PV's claimRef to the user's PVC and write the provenance annotations.
    case rebind(volume: String)
    /// Put the saved reclaim policy back.
    case restoreReclaim(volume: String, policy: String)
    case event(PopulateEvent)
}

/// An event on the user's PVC.
public struct PopulateEvent: Sendable, Equatable {
    public var warning: Bool
    public var reason: String
    public var message: String
    public init(warning: Bool, reason: String, message: String) {
        self.warning = warning
        self.reason = reason
        self.message = message
    }
    public static func normal(_ reason: String, _ message: String) -> PopulateEvent {
        PopulateEvent(warning: false, reason: reason, message: message)
    }
    public static func warning(_ reason: String, _ message: String) -> PopulateEvent {
        PopulateEvent(warning: true, reason: reason, message: message)
    }
}

/// How a reconcile ended (STYLE.md §3b).
public enum PopulateOutcome: Sendable, Equatable {
    /// Nothing more to do for this PVC.
    case done
    /// Waiting for something outside Ferry; re-checked when a watched object changes (and after `after`).
    case waiting(reason: String, recheck: Duration)
    /// Come back after this delay (progress polling, capped backoff).
    case requeue(after: Duration)
}

/// The decision of one reconcile.
public struct PopulateDecision: Sendable, Equatable {
    public var actions: [PopulateAction]
    public var outcome: PopulateOutcome
    public init(_ actions: [PopulateAction], _ outcome: PopulateOutcome) {
        self.actions = actions
        self.outcome = outcome
    }
}
