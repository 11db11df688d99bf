public import Kube

/// One ReferenceGrant as the grant decision sees it: the same rule for `v1` and `v1beta1` (their schemas are equal).
///
/// Built from either version with ``init(_:)-(ReferenceGrant)`` or ``init(_:)-(ReferenceGrantV1)``; no I/O.
public struct GrantRule: Sendable, Hashable {
    /// A `from` entry: who may refer.
    public struct From: Sendable, Hashable {
        public var group: String
        public var kind: String
        public var namespace: String
        public init(group: String, kind: String, namespace: String) {
            self.group = group
            self.kind = kind
            self.namespace = namespace
        }
    }

    /// A `to` entry: what may be referred to; `name` nil or empty = every object of the kind in the namespace.
    public struct To: Sendable, Hashable {
        public var group: String
        public var kind: String
        public var name: String?
        public init(group: String, kind: String, name: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
        }
    }

    /// The grant's namespace (the namespace of the sources it opens).
    public var namespace: String
    public var name: String
    /// `v1` or `v1beta1`.
    public var version: String
    public var uid: String?
    public var from: [From]
    public var to: [To]

    public init(namespace: String, name: String, version: String = "v1beta1", uid: String? = nil, from: [From], to: [To]) {
        self.namespace = namespace
        self.name = name
        self.version = version
        self.uid = uid
        self.from = from
        self.to = to
    }

    public init(_ grant: ReferenceGrant) {
        self.init(namespace: grant.metadata.namespace ?? "", name: grant.name, version: ReferenceGrant.resourceType.version,
                  uid: grant.metadata.uid, spec: grant.spec)
    }

    public init(_ grant: ReferenceGrantV1) {
        self.init(namespace: grant.metadata.namespace ?? "", name: grant.name, version: ReferenceGrantV1.resourceType.version,
                  uid: grant.metadata.uid, spec: grant.spec)
    }

    init(namespace: String, name: String, version: String, uid: String?, spec: ReferenceGrantSpec) {
        // Missing required fields (the CRD requires group, kind and namespace) read as "" and so never match.
        self.init(namespace: namespace, name: name, version: version, uid: uid,
                  from: spec.from.map { From(group: $0.group ?? "", kind: $0.kind ?? "", namespace: $0.namespace ?? "") },
                  to: spec.to.map { To(group: $0.group ?? "", kind: $0.kind ?? "", name: $0.name) })
    }

    /// The grant's key (namespace and name).
    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
}
