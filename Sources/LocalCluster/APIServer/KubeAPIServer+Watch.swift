import Foundation
import LocalHTTPS
import Kube

extension KubeAPIServer {
    /// Serves a watch on the connection's thread until the client leaves, `timeoutSeconds` passes or the server stops.
    func watch(_ t: ResourceType, namespace: String?, _ req: LocalHTTPRequest, _ res: LocalHTTPResponder) throws(APIFailure) {
        let labels = try req.queryValue("labelSelector").map { s throws(APIFailure) in try LabelSelector(s) }
        let fields = try req.queryValue("fieldSelector").map { s throws(APIFailure) in try FieldSelector(s, type: t) }
        let bookmarks = req.boolQuery("allowWatchBookmarks")
        let deadline = req.queryValue("timeoutSeconds").flatMap(Double.init).map { Date().addingTimeInterval($0) }
        let requested = req.queryValue("resourceVersion") ?? ""
        let typeKey = APIStore.typeKey(t)
        func matches(_ o: JSONObject) -> Bool {
            (namespace == nil || o["metadata"]?.object?["namespace"]?.string == namespace)
                && (labels?.matches(ObjectMeta(json: o["metadata"] ?? [:])?.labels ?? [:]) ?? true)
                && (fields?.matches(o) ?? true)
        }
        func line(_ type: String, _ o: JSONValue) -> [UInt8] {
            JSONCoding.serialize(["type": .string(type), "object": o]) + [10]
        }
        func gone(_ rv: String) -> [UInt8] {
            line("ERROR", APIFailure(code: 410, reason: "Expired",
                                     message: "too old resource version: \(rv) (\(store.compactedRV + 1))").status)
        }

        let sendInitial = req.boolQuery("sendInitialEvents")
        if sendInitial {
            // WatchList (client-go's default since v1.35): the API's own validation of these options.
            guard req.queryValue("resourceVersionMatch") == "NotOlderThan" else {
                throw APIFailure.invalid(watchListOptions: "resourceVersionMatch",
                    "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
            }
            guard bookmarks else {
                throw APIFailure.invalid(watchListOptions: "allowWatchBookmarks",
                    "Required value: allowWatchBookmarks must be set to true when sendInitialEvents is set")
            }
        }
        store.cond.lock()
        var position: Int64
        var initial: [[UInt8]] = []
        if sendInitial {
            // Every current object (state at least as new as the requested version), then the bookmark that ends
            // the initial events.
            position = store.rv
            for (_, o) in (store.objects[typeKey] ?? [:]).sorted(by: { $0.key < $1.key }) where matches(o) {
                initial.append(line("ADDED", .object(converted(o, t))))
            }
            initial.append(line("BOOKMARK", ["kind": .string(t.kind), "apiVersion": .string(t.apiVersion),
                                             "metadata": ["resourceVersion": .string(String(position)),
                                                          "annotations": ["k8s.io/initial-events-end": "true"]]]))
        } else if requested.isEmpty || requested == "0" {
            position = store.rv
            for (_, o) in (store.objects[typeKey] ?? [:]).sorted(by: { $0.key < $1.key }) where matches(o) {
                initial.append(line("ADDED", .object(converted(o, t))))
            }
        } else if let rv = Int64(requested) {
            position = rv
            if rv < store.compactedRV { initial.append(gone(requested)); position = -1 }
        } else {
            store.cond.unlock()
            throw APIFailure.badRequest("invalid resource version: \(requested)")
        }
        store.cond.unlock()

        res.startStream(status: 200, headers: [("Content-Type", "application/json")])
        for l in initial where !res.writeChunk(l) { return }
        if position < 0 { res.endStream(); return }
        var lastBookmark = Date()
        let interval = Double(bookmarkInterval.components.seconds) + Double(bookmarkInterval.components.attoseconds) / 1e18
        while true {
            store.cond.lock()
            while store.rv <= position, !stopped.withLock({ $0 }), deadline.map({ Date() < $0 }) ?? true,
                  !(bookmarks && Date().timeIntervalSince(lastBookmark) >= interval) {
                _ = store.cond.wait(until: Date().addingTimeInterval(0.05))
            }
            var out: [UInt8] = []
            var end = false
            if position < store.compactedRV {
                out = gone(String(position))
                end = true
            } else {
                var i = store.firstChange(after: position)
                while i < store.history.count {
                    let c = store.history[i]
                    i += 1
                    guard c.typeKey == typeKey else { continue }
                    let now = matches(c.object)
                    let before = c.previous.map(matches) ?? false
                    let type: String? = switch (c.type, before, now) {
                    case ("DELETED", true, _): "DELETED"
                    case ("ADDED", _, true): "ADDED"
                    case ("MODIFIED", true, true): "MODIFIED"
                    case ("MODIFIED", false, true): "ADDED"
                    case ("MODIFIED", true, false): "DELETED"
                    default: nil
                    }
                    if let type { out += line(type, .object(converted(c.object, t))) }
                }
                position = store.rv
                if bookmarks, Date().timeIntervalSince(lastBookmark) >= interval {
                    lastBookmark = Date()
                    out += line("BOOKMARK", ["kind": .string(t.kind), "apiVersion": .string(t.apiVersion),
                                             "metadata": ["resourceVersion": .string(String(position))]])
                }
            }
            let finished = stopped.withLock { $0 } || (deadline.map { Date() >= $0 } ?? false)
            store.cond.unlock()
            if !out.isEmpty, !res.writeChunk(out) { return }
            if end || finished { res.endStream(); return }
        }
    }
}
