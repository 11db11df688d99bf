/// Options of `list`.
public struct ListOptions: Sendable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size; follow ``ObjectList/continueToken`` for the rest.
    public var limit: Int?
    public var continueToken: String?
    /// `"0"` allows a cached answer; nil asks for the most recent state.
    public var resourceVersion: String?
    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
                continueToken: String? = nil, resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }
}

/// One page of a list.
public struct ObjectList<T: KubeResource>: Sendable {
    public var items: [T]
    /// The collection's resourceVersion: start a watch here to see every later change.
    public var resourceVersion: String
    /// Set when more pages follow.
    public var continueToken: String?
    public var remainingItemCount: Int64?
}

/// Options of writes (create, update, patch, apply).
public struct WriteOptions: Sendable {
    /// Validate and run admission, persist nothing (`dryRun=All`).
    public var dryRun: Bool
    /// Field manager recorded for server-side field ownership.
    public var fieldManager: String?
    public init(dryRun: Bool = false, fieldManager: String? = nil) {
        self.dryRun = dryRun
        self.fieldManager = fieldManager
    }
}

public enum PropagationPolicy: String, Sendable { case orphan = "Orphan", background = "Background", foreground = "Foreground" }

/// Options of `delete`.
public struct DeleteOptions: Sendable {
    /// Delete only if the object still has this UID (else `.conflict`).
    public var preconditionUID: String?
    /// Delete only if the object is still at this resourceVersion (else `.conflict`).
    public var preconditionResourceVersion: String?
    public var propagationPolicy: PropagationPolicy?
    public var gracePeriodSeconds: Int?
    public var dryRun: Bool
    public init(preconditionUID: String? = nil, preconditionResourceVersion: String? = nil,
                propagationPolicy: PropagationPolicy? = nil, gracePeriodSeconds: Int? = nil, dryRun: Bool = false) {
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.dryRun = dryRun
    }

    var body: JSONValue {
        var o: JSONObject = ["apiVersion": "v1", "kind": "DeleteOptions"]
        var pre = JSONObject()
        if let preconditionUID { pre["uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { pre["resourceVersion"] = .string(preconditionResourceVersion) }
        if !pre.isEmpty { o["preconditions"] = .object(pre) }
        if let propagationPolicy { o["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { o["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if dryRun { o["dryRun"] = ["All"] }
        return .object(o)
    }
}

/// What `delete` did.
public enum DeleteResult<T: KubeResource>: Sendable {
    /// The object is gone (the server may or may not return its last state).
    case deleted(T?)
    /// Finalizers hold the object: it now has a `deletionTimestamp` and is deleted when they are removed.
    case pending(T)
}
