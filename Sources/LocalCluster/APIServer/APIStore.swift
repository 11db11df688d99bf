import Foundation
import Kube

/// The test API server's state: objects, the resourceVersion counter, change history (for watches) and field
/// ownership (for server-side apply). Every method runs under `cond`'s lock; watchers wait on `cond`.
final class APIStore: @unchecked Sendable {  // @unchecked: all state guarded by `cond`
    struct Change {
        let rv: Int64
        let typeKey: String
        let type: String  // ADDED / MODIFIED / DELETED
        let object: JSONObject
        let previous: JSONObject?
    }

    let cond = NSCondition()
    private(set) var rv: Int64 = 1000
    var objects: [String: [ObjectKey: JSONObject]] = [:]
    var history: [Change] = []
    /// Versions at or below this are gone from history: watching from them answers 410.
    private(set) var compactedRV: Int64 = 1000
    var ownership: [String: [String: Set<String>]] = [:]
    var maxHistory = 200_000

    static func typeKey(_ t: ResourceType) -> String { "\(t.group)/\(t.plural)" }

    func locked<R>(_ body: () throws(APIFailure) -> R) throws(APIFailure) -> R {
        cond.lock()
        defer { cond.unlock() }
        return try body()
    }

    func nextRV() -> Int64 { rv += 1; return rv }

    func record(_ type: String, _ t: ResourceType, _ object: JSONObject, previous: JSONObject?, rv: Int64) {
        history.append(Change(rv: rv, typeKey: Self.typeKey(t), type: type, object: object, previous: previous))
        if history.count > maxHistory {
            let drop = history.count - maxHistory
            compactedRV = history[drop - 1].rv
            history.removeFirst(drop)
        }
        cond.broadcast()
    }

    /// Drops all history: every older resourceVersion becomes too old (410) for watches and continue tokens.
    func compact() {
        cond.lock()
        rv += 1  // like an etcd compaction racing ahead of readers: every version handed out so far is now too old
        compactedRV = rv
        history.removeAll()
        cond.broadcast()
        cond.unlock()
    }

    /// Index of the first change with rv > after (binary search; history is sorted).
    func firstChange(after: Int64) -> Int {
        var lo = 0, hi = history.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if history[mid].rv <= after { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

enum Time {
    static func now() -> String { after(seconds: 0) }
    static func after(seconds: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date().addingTimeInterval(TimeInterval(seconds)))
    }
}

/// The grace period of a pod DELETE (`pod/strategy.go` `CheckGracefulDelete`): the request's `gracePeriodSeconds`,
/// else `spec.terminationGracePeriodSeconds`; 0 when the pod has no node or has finished; negative becomes 1.
enum PodGrace {
    static func period(pod: JSONObject, requested: Int64?) -> Int64? {
        let spec = pod["spec"]?.object ?? [:]
        var grace = requested ?? spec["terminationGracePeriodSeconds"]?.int ?? 30
        let phase = pod["status"]?.object?["phase"]?.string
        if (spec["nodeName"]?.string ?? "").isEmpty || phase == "Succeeded" || phase == "Failed" { grace = 0 }
        if grace < 0 { grace = 1 }
        return grace
    }
}

/// Leaf paths of a JSON object (`.spec.resources.requests.storage`); arrays are leaves.
func leafPaths(_ value: JSONValue, prefix: String = "") -> [String: JSONValue] {
    guard case .object(let o) = value, !o.isEmpty || prefix.isEmpty else { return [prefix: value] }
    var out: [String: JSONValue] = [:]
    for (k, v) in o { out.merge(leafPaths(v, prefix: prefix + "." + k)) { a, _ in a } }
    return out
}

func value(at path: String, in object: JSONObject) -> JSONValue? {
    JSONValue.object(object).value(at: String(path.dropFirst()))
}

func removing(path: String, from object: JSONObject) -> JSONObject {
    let keys = path.split(separator: ".").map(String.init)
    func go(_ o: JSONObject, _ rest: ArraySlice<String>) -> JSONObject {
        guard let first = rest.first else { return o }
        var o = o
        if rest.count == 1 { o.removeValue(forKey: first) }
        else if let inner = o[first]?.object {
            let r = go(inner, rest.dropFirst())
            o[first] = r.isEmpty ? nil : .object(r)
        }
        return o
    }
    return go(object, keys[...])
}

/// Apply's merge: objects merge recursively, everything else (arrays included) replaces.
func deepMerge(_ base: JSONObject, _ overlay: JSONObject) -> JSONObject {
    var out = base
    for (k, v) in overlay {
        if case .object(let ov) = v, case .object(let bv)? = out[k] { out[k] = .object(deepMerge(bv, ov)) }
        else { out[k] = v }
    }
    return out
}
