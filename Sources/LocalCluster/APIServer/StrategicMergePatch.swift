import Kube

/// Strategic merge patch (apimachinery `strategicpatch`) for the built-in kinds, which kubectl uses for client-side
/// apply, `kubectl patch` (default type) and event updates.
///
/// Semantics: maps merge recursively and `null` deletes a key; lists whose Go field carries `patchStrategy:"merge"`
/// merge element-wise by their `patchMergeKey` (primitive lists such as `finalizers` are unioned), all other lists are
/// replaced. Directives: `$patch: replace|delete|merge` (in maps and list elements), `$retainKeys`,
/// `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>`.
///
/// The merge keys come from the Go struct tags of `k8s.io/api` (table in `mergeKey(for:parent:)`); a list not in the
/// table is replaced, which is what the real server does for lists without a strategy. Knowingly different: the table
/// covers the core, storage and apps fields a volume workflow touches, not every list of every built-in kind.
enum StrategicMergePatch {
    struct Failure: Error { let message: String }

    /// How a list field merges: by a key of its elements, as a set of primitives, or not at all (replace).
    enum ListStrategy: Equatable { case key(String), primitiveSet, replace }

    static func strategy(for field: String, parent: String?) -> ListStrategy {
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "volumes", "env", "imagePullSecrets",
             "resourceClaims", "schedulingGates", "secrets":
            return .key("name")
        case "ports": return parent == "containers" || parent == "initContainers" || parent == "ephemeralContainers"
            ? .key("containerPort") : .key("port")
        case "volumeMounts": return .key("mountPath")
        case "volumeDevices": return .key("devicePath")
        case "ownerReferences": return .key("uid")
        case "finalizers": return .primitiveSet
        case "conditions": return .key("type")
        case "hostAliases": return .key("ip")
        case "topologySpreadConstraints": return .key("topologyKey")
        case "addresses": return parent == "status" ? .key("type") : .replace
        default: return .replace
        }
    }

    /// Applies `patch` to `original`.
    /// - Throws: `Failure` when the patch is not an object or uses a directive wrongly.
    static func apply(_ patch: JSONValue, to original: JSONObject) throws(Failure) -> JSONObject {
        guard case .object(let p) = patch else { throw Failure(message: "strategic merge patch must be a JSON object") }
        return try mergeMap(original, p, field: nil)
    }

    static func mergeMap(_ original: JSONObject, _ patch: JSONObject, field: String?) throws(Failure) -> JSONObject {
        if let directive = patch["$patch"]?.string {
            switch directive {
            case "replace":
                var p = patch
                p["$patch"] = nil
                return strip(p)
            case "delete": return [:]
            case "merge": break
            default: throw Failure(message: "Unknown patch type: \(directive) in map: \(JSONCoding.string(.object(patch)))")
            }
        }
        var out = original
        if let retain = patch["$retainKeys"]?.array {
            let keep = Set(retain.compactMap(\.string))
            out = out.filter { keep.contains($0.key) }
        }
        for (key, value) in patch {
            if key == "$patch" || key == "$retainKeys" || key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let target = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.array ?? []
                if case .array(let list)? = out[target] { out[target] = .array(list.filter { !remove.contains($0) }) }
                continue
            }
            if case .null = value { out[key] = nil; continue }
            switch (out[key], value) {
            case (.object(let o)?, .object(let p)):
                out[key] = .object(try mergeMap(o, p, field: key))
            case (let existing, .array(let p)):
                let current = existing?.array ?? []
                var merged = try mergeList(current, p, field: key, parent: field)
                if let order = patch["$setElementOrder/\(key)"]?.array {
                    merged = reorder(merged, by: order, strategy: strategy(for: key, parent: field))
                }
                out[key] = .array(merged)
            case (_, .object(let p)):
                out[key] = .object(try mergeMap([:], p, field: key))
            default:
                out[key] = value
            }
        }
        return out
    }

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], field: String,
                          parent: String?) throws(Failure) -> [JSONValue] {
        if patch.contains(where: { $0.object?["$patch"]?.string == "replace" }) {
            return patch.filter { $0.object?["$patch"]?.string != "replace" }.map(stripValue)
        }
        switch strategy(for: field, parent: parent) {
        case .replace:
            return patch.map(stripValue)
        case .primitiveSet:
            var out = original
            for v in patch where !out.contains(v) { out.append(v) }
            return out
        case .key(let mergeKey):
            var out = original
            for element in patch {
                guard case .object(let e) = element else { out.append(element); continue }
                guard let k = e[mergeKey] else {
                    throw Failure(message: "map: \(JSONCoding.string(element)) does not contain declared merge key: \(mergeKey)")
                }
                let index = out.firstIndex { $0.object?[mergeKey] == k }
                if e["$patch"]?.string == "delete" {
                    if let index { out.remove(at: index) }
                    continue
                }
                if let index, case .object(let o) = out[index] {
                    out[index] = .object(try mergeMap(o, e, field: field))
                } else {
                    out.append(.object(try mergeMap([:], e, field: field)))
                }
            }
            return out
        }
    }

    /// `$setElementOrder`: the listed elements first, in that order; unlisted ones (added by others) after.
    static func reorder(_ list: [JSONValue], by order: [JSONValue], strategy: ListStrategy) -> [JSONValue] {
        func id(_ v: JSONValue) -> JSONValue? {
            if case .key(let k) = strategy { return v.object?[k] }
            return v
        }
        var rest = list
        var out: [JSONValue] = []
        for o in order {
            let wanted = id(o) ?? o
            if let i = rest.firstIndex(where: { id($0) == wanted }) { out.append(rest.remove(at: i)) }
        }
        return out + rest
    }

    static func strip(_ o: JSONObject) -> JSONObject {
        o.filter { !$0.key.hasPrefix("$") }.mapValues(stripValue)
    }

    static func stripValue(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o): .object(strip(o))
        case .array(let a): .array(a.map(stripValue))
        default: v
        }
    }
}
