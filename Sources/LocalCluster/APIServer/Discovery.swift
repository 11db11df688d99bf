import Foundation
import Kube

/// What discovery publishes: every group, its versions (preferred first) and the resources of each version, built
/// from `BuiltinTypes` and the stored CRDs. Rendered both as aggregated discovery (`apidiscovery.k8s.io/v2`, what
/// kubectl ≥ 1.30 asks for first) and as legacy discovery (APIVersions, APIGroupList, APIResourceList).
struct DiscoveryModel {
    struct Resource {
        var plural: String
        var singular: String
        var kind: String
        var namespaced: Bool
        var verbs: [String]
        var shortNames: [String]
        var categories: [String]
        var subresources: [String]
    }
    struct Version {
        var version: String
        var resources: [Resource]
    }
    struct Group {
        var name: String
        var versions: [Version]
    }

    var groups: [Group]

    /// Group order as kube-apiserver lists them: core first, built-in groups, then CRD groups by name.
    init(crds: [JSONObject]) {
        var groups: [Group] = []
        func add(_ group: String, _ version: String, _ r: Resource) {
            if let g = groups.firstIndex(where: { $0.name == group }) {
                if let v = groups[g].versions.firstIndex(where: { $0.version == version }) {
                    groups[g].versions[v].resources.append(r)
                } else {
                    groups[g].versions.append(Version(version: version, resources: [r]))
                }
            } else {
                groups.append(Group(name: group, versions: [Version(version: version, resources: [r])]))
            }
        }
        for info in BuiltinTypes.infos {
            let t = info.type
            add(t.group, t.version, Resource(plural: t.plural, singular: info.singular, kind: t.kind,
                                             namespaced: t.namespaced, verbs: info.verbs, shortNames: info.shortNames,
                                             categories: info.categories,
                                             subresources: (t.hasStatusSubresource ? ["status"] : []) + info.subresources))
        }
        let custom = crds.sorted { ($0["spec"]?.object?["group"]?.string ?? "") < ($1["spec"]?.object?["group"]?.string ?? "") }
        for crd in custom {
            let spec = crd["spec"]?.object ?? [:]
            let names = spec["names"]?.object ?? [:]
            guard let group = spec["group"]?.string, let kind = names["kind"]?.string,
                  let plural = names["plural"]?.string else { continue }
            let versions = (spec["versions"]?.array ?? []).compactMap(\.object).filter { $0["served"]?.bool == true }
            for v in Self.sortedByPriority(versions.compactMap { $0["name"]?.string }) {
                let vo = versions.first { $0["name"]?.string == v } ?? [:]
                let status = vo["subresources"]?.object?["status"] != nil
                let scale = vo["subresources"]?.object?["scale"] != nil
                add(group, v, Resource(plural: plural, singular: names["singular"]?.string ?? kind.lowercased(), kind: kind,
                                       namespaced: spec["scope"]?.string != "Cluster",
                                       verbs: BuiltinTypes.Info.allVerbs,
                                       shortNames: (names["shortNames"]?.array ?? []).compactMap(\.string),
                                       categories: (names["categories"]?.array ?? []).compactMap(\.string),
                                       subresources: (status ? ["status"] : []) + (scale ? ["scale"] : [])))
            }
        }
        for g in groups.indices {
            let order = Self.sortedByPriority(groups[g].versions.map(\.version))
            groups[g].versions.sort { (order.firstIndex(of: $0.version) ?? 0) < (order.firstIndex(of: $1.version) ?? 0) }
        }
        self.groups = groups
    }

    /// Kubernetes version priority (`version.CompareKubeAwareVersionStrings`): GA > beta > alpha, higher numbers
    /// first; anything else after, by name.
    static func sortedByPriority(_ versions: [String]) -> [String] {
        func key(_ v: String) -> (Int, Int, Int, String) {
            let pattern = v.split(separator: "v", maxSplits: 1, omittingEmptySubsequences: false)
            guard v.hasPrefix("v"), pattern.count == 2 else { return (3, 0, 0, v) }
            let rest = String(pattern[1])
            let major = Int(rest.prefix { $0.isNumber }) ?? -1
            let tail = rest.drop { $0.isNumber }
            if major < 0 { return (3, 0, 0, v) }
            if tail.isEmpty { return (0, -major, 0, v) }
            for (rank, word) in [(1, "beta"), (2, "alpha")] where tail.hasPrefix(word) {
                let minor = Int(tail.dropFirst(word.count)) ?? 0
                return (rank, -major, -minor, v)
            }
            return (3, 0, 0, v)
        }
        return versions.sorted { key($0) < key($1) }
    }

    func group(_ name: String) -> Group? { groups.first { $0.name == name } }

    // MARK: Legacy discovery

    func apiVersions(serverAddress: String) -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"],
         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)]]]
    }

    func apiGroupList() -> JSONValue {
        .object(["kind": "APIGroupList", "apiVersion": "v1",
                 "groups": .array(groups.filter { !$0.name.isEmpty }.map(Self.apiGroup))])
    }

    static func apiGroup(_ g: Group) -> JSONValue {
        let versions: [JSONValue] = g.versions.map {
            ["groupVersion": .string("\(g.name)/\($0.version)"), "version": .string($0.version)]
        }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(g.name), "versions": .array(versions),
                "preferredVersion": versions.first ?? .null]
    }

    func apiResourceList(group: String, version: String) -> JSONValue? {
        guard let v = self.group(group)?.versions.first(where: { $0.version == version }) else { return nil }
        var resources: [JSONValue] = []
        for r in v.resources {
            var o: JSONObject = ["name": .string(r.plural), "singularName": .string(r.singular),
                                 "namespaced": .bool(r.namespaced), "kind": .string(r.kind),
                                 "verbs": .array(r.verbs.map(JSONValue.string))]
            if !r.shortNames.isEmpty { o["shortNames"] = .array(r.shortNames.map(JSONValue.string)) }
            if !r.categories.isEmpty { o["categories"] = .array(r.categories.map(JSONValue.string)) }
            resources.append(.object(o))
            for sub in r.subresources {
                let (kind, verbs) = Self.subresource(sub, of: r)
                resources.append(["name": .string("\(r.plural)/\(sub)"), "singularName": "", "namespaced": .bool(r.namespaced),
                                  "kind": .string(kind), "verbs": .array(verbs.map(JSONValue.string))])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources)]
    }

    static func subresource(_ sub: String, of r: Resource) -> (kind: String, verbs: [String]) {
        switch sub {
        case "status": (r.kind, ["get", "patch", "update"])
        case "scale": ("Scale", ["get", "patch", "update"])
        case "binding": ("Binding", ["create"])
        case "log": ("Pod", ["get"])
        case "finalize": ("Namespace", ["update"])
        default: (r.kind, ["get"])
        }
    }

    // MARK: Aggregated discovery (apidiscovery.k8s.io/v2)

    /// `core` true: the document of `/api` (the core group only); false: `/apis` (every named group).
    func aggregated(core: Bool) -> JSONValue {
        let items: [JSONValue] = groups.filter { $0.name.isEmpty == core }.map { g in
            let versions: [JSONValue] = g.versions.map { v in
                let resources: [JSONValue] = v.resources.map { r in
                    var o: JSONObject = [
                        "resource": .string(r.plural),
                        "responseKind": ["group": .string(g.name), "version": .string(v.version), "kind": .string(r.kind)],
                        "scope": r.namespaced ? "Namespaced" : "Cluster",
                        "singularResource": .string(r.singular),
                        "verbs": .array(r.verbs.map(JSONValue.string)),
                    ]
                    if !r.shortNames.isEmpty { o["shortNames"] = .array(r.shortNames.map(JSONValue.string)) }
                    if !r.categories.isEmpty { o["categories"] = .array(r.categories.map(JSONValue.string)) }
                    if !r.subresources.isEmpty {
                        o["subresources"] = .array(r.subresources.map { sub in
                            let (kind, verbs) = Self.subresource(sub, of: r)
                            let responseGroup = sub == "scale" ? "autoscaling" : g.name
                            let responseVersion = sub == "scale" ? "v1" : v.version
                            return ["subresource": .string(sub),
                                    "responseKind": ["group": .string(responseGroup), "version": .string(responseVersion),
                                                     "kind": .string(kind)],
                                    "verbs": .array(verbs.map(JSONValue.string))]
                        })
                    }
                    return .object(o)
                }
                return ["version": .string(v.version), "resources": .array(resources), "freshness": "Current"]
            }
            return ["metadata": g.name.isEmpty ? ["creationTimestamp": .null] : ["name": .string(g.name), "creationTimestamp": .null],
                    "versions": .array(versions)]
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:],
                "items": .array(items)]
    }

    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Whether an Accept header asks for aggregated discovery v2 (kubectl sends it first, with JSON as fallback).
    static func wantsAggregated(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { part in
            let p = part.replacingOccurrences(of: " ", with: "")
            return p.contains("g=apidiscovery.k8s.io") && p.contains("v=v2") && p.contains("as=APIGroupDiscoveryList")
        }
    }
}
