public import Foundation

/// Where a kind lives in the API: group, version, plural and scope.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool
    /// Whether the kind has a `status` subresource (status is written only through it).
    public var hasStatusSubresource: Bool

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool,
                hasStatusSubresource: Bool) {
        self.group = group
        self.version = version
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
        self.hasStatusSubresource = hasStatusSubresource
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `/api/v1` or `/apis/<group>/<version>`.
    public var apiPrefix: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }
    /// `plural.group` — a CRD's name.
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection path (`namespace` nil on a namespaced kind = across all namespaces), or an object's path.
    ///
    /// Namespace, name and subresource are validated as client-go's `IsValidPathSegmentName` does before any
    /// request is built: `""`, `.`, `..` and anything containing `/` or `%` are refused (libcurl would collapse
    /// dot segments, so `name: "."` would otherwise address the whole collection).
    /// - Throws: `KubeError` `.invalid` naming the offending segment.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) throws(KubeError) -> String {
        var p = apiPrefix
        if namespaced, let namespace {
            try PathSegment.validate(namespace, as: "namespace", resource: plural)
            p += "/namespaces/\(Self.escape(namespace))"
        }
        p += "/\(plural)"
        if let name {
            try PathSegment.validate(name, as: "name", resource: plural, namespace: namespace)
            p += "/\(Self.escape(name))"
        }
        if let subresource {
            try PathSegment.validate(subresource, as: "subresource", resource: plural, namespace: namespace)
            p += "/\(Self.escape(subresource))"
        }
        return p
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? s
    }

    public var description: String { "\(qualifiedName)/\(version)" }
}

/// A Kubernetes object kind. Values are ``JSONView``s, so unknown fields survive read-modify-write.
public protocol KubeResource: JSONView, Codable {
    static var resourceType: ResourceType { get }
}

extension KubeResource {
    /// A new object with `apiVersion`, `kind` and the given name (and namespace for namespaced kinds).
    public init(name: String, namespace: String? = nil) {
        self.init(object: [
            "apiVersion": .string(Self.resourceType.apiVersion), "kind": .string(Self.resourceType.kind),
        ])
        metadata.name = name
        if Self.resourceType.namespaced { metadata.namespace = namespace }
    }

    public var apiVersion: String? { get { self["apiVersion"] } set { self["apiVersion"] = newValue } }
    public var kind: String? { get { self["kind"] } set { self["kind"] = newValue } }
    public var metadata: ObjectMeta { get { self[view: "metadata"] } set { self[view: "metadata"] = newValue } }
    public var name: String { metadata.name ?? "" }
    public var namespace: String? { metadata.namespace }
    /// The object's key in caches and work queues.
    public var key: ObjectKey { ObjectKey(namespace: metadata.namespace, name: metadata.name ?? "") }
    /// A reference to this object (events, owner checks).
    public var reference: ObjectReference {
        ObjectReference(apiVersion: Self.resourceType.apiVersion, kind: Self.resourceType.kind,
                        namespace: metadata.namespace, name: metadata.name, uid: metadata.uid,
                        resourceVersion: metadata.resourceVersion)
    }

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        guard let o = value.object else {
            throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: decoder.codingPath, debugDescription: "not an object"))
        }
        self.init(object: o)
    }
    public func encode(to encoder: any Encoder) throws { try JSONValue.object(object).encode(to: encoder) }
}

/// Namespace and name of an object: the key of caches and work queues.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String?
    public var name: String
    public init(namespace: String?, name: String) { self.namespace = namespace; self.name = name }
    public var description: String { namespace.map { "\($0)/\(name)" } ?? name }
    public static func < (a: ObjectKey, b: ObjectKey) -> Bool { a.description < b.description }
}
