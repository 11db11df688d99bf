public import Kube
import Synchronization

/// Events a person can act on, de-duplicated: an event is sent for a claim only when its (type, reason, message)
/// differs from the last one sent for that claim UID, so a retried wait shows as one event, not one per attempt.
/// The EventRecorder below folds any repeats that still happen (restart) into a count.
public final class Feedback: Sendable {
    private let sink: any EventSink
    private let last = Mutex<[String: String]>([:])

    public init(sink: any EventSink) { self.sink = sink }

    /// Records the event unless it repeats the previous one for this object.
    public func report(_ object: ObjectReference, type: EventType, reason: String, message: String) async {
        let id = object.uid ?? "\(object.namespace ?? "")/\(object.name ?? "")"
        let fingerprint = "\(type.rawValue)\u{1}\(reason)\u{1}\(message)"
        let fresh = last.withLock { seen -> Bool in
            if seen[id] == fingerprint { return false }
            seen[id] = fingerprint
            if seen.count > 100_000 { seen.removeAll() }
            return true
        }
        if fresh { await sink.record(object, type: type, reason: reason, message: message) }
    }

    /// Forgets an object (deleted), so its memory does not grow without bound.
    public func forget(uid: String?) {
        guard let uid else { return }
        _ = last.withLock { $0.removeValue(forKey: uid) }
    }
}

/// The reasons Ferry's events and conditions use (upstream's where Ferry takes the same decision, Appendix A).
public enum EventReason {
    public static let provisioning = "Provisioning"
    public static let provisioningSucceeded = "ProvisioningSucceeded"
    public static let provisioningFailed = "ProvisioningFailed"
    public static let referenceGrantMissing = "ReferenceGrantMissing"
    public static let grantRevoked = "ReferenceGrantRevoked"
}
