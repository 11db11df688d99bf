import Foundation
import Kube
import LocalHTTPS

/// A fault the API server injects into matching requests (tests of retry, conflict and relist paths).
public struct APIFault: Sendable {
    public enum Effect: Sendable, Equatable {
        /// Answer with this HTTP status (409 Conflict, 410 Gone/Expired, 429 TooManyRequests with `Retry-After`,
        /// 500 InternalError, or any other code) instead of serving the request. For a watch, 410 arrives as upstream
        /// sends it: HTTP 200 and one `ERROR` event carrying the Status.
        case status(Int, retryAfterSeconds: Int? = nil)
        /// Close the connection without an answer (a reset as the client sees it).
        case dropConnection
    }

    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`; nil matches every verb.
    public var verb: String?
    /// Resource plural, optionally with a subresource (`persistentvolumeclaims`, `pods/status`); nil matches all.
    public var resource: String?
    public var namespace: String?
    public var effect: Effect
    /// How many matching requests get the fault; then it is gone.
    public var count: Int

    public init(verb: String? = nil, resource: String? = nil, namespace: String? = nil, effect: Effect, count: Int = 1) {
        self.verb = verb
        self.resource = resource
        self.namespace = namespace
        self.effect = effect
        self.count = count
    }
}

extension KubeAPIServer {
    /// Adds a fault; matching requests get it until its count is used up.
    public func inject(_ fault: APIFault) { faults.withLock { $0.append(fault) } }
    public func clearFaults() { faults.withLock { $0 = [] } }

    /// Ends every open watch of `resource` (plural; nil: all) as a server-side stream end: clients must watch again.
    public func dropWatches(resource: String? = nil) {
        watchDrops.withLock { d in
            if let resource { d[resource, default: 0] += 1 } else { d["*", default: 0] += 1 }
        }
        store.cond.lock(); store.cond.broadcast(); store.cond.unlock()
    }

    /// Restarts the API server from its store, as a kube-apiserver restart over the same etcd: every connection drops,
    /// the listener comes back on the same port, and the watch cache starts empty, so watches from older versions get
    /// 410 and clients must relist. Objects, UIDs and resourceVersions are kept.
    public func restart() throws {
        let old = http.withLock { $0 }
        // No waiting for the old server's threads: its watches are not told to stop (the store lives on), they end
        // at their next write to the dropped connection.
        old?.stop(timeout: .zero)
        store.compact()
        let port = self.port
        var lastError: (any Error)?
        for _ in 0..<50 {
            do {
                let server = try LocalHTTPSServer(certificates: certificates, port: port) { [weak self] req, res in
                    guard let self else { return res.respond(status: 503) }
                    self.handle(req, res)
                }
                http.withLock { $0 = server }
                return
            } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        throw LocalClusterError("API server restart: cannot listen on port \(port) again: \(lastError.map { "\($0)" } ?? "")")
    }

    /// The fault for this request, if any (its count is consumed).
    func takeFault(verb: String, resource: String, namespace: String?) -> APIFault? {
        faults.withLock { list -> APIFault? in
            guard let i = list.firstIndex(where: { f in
                (f.verb == nil || f.verb == verb) && (f.resource == nil || f.resource == resource)
                    && (f.namespace == nil || f.namespace == namespace)
            }) else { return nil }
            let f = list[i]
            list[i].count -= 1
            if list[i].count <= 0 { list.remove(at: i) }
            return f
        }
    }

    static func failure(for code: Int, retryAfter: Int?, type: ResourceType, name: String?) -> APIFailure {
        switch code {
        case 409: return .conflict(type, name ?? "", "the object has been modified; please apply your changes to the latest version and try again")
        case 410: return APIFailure(code: 410, reason: "Expired", message: "The resourceVersion for the provided list is too old.")
        case 429:
            let after = retryAfter ?? 1
            return APIFailure(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                              details: ["retryAfterSeconds": .int(Int64(after))], headers: [("Retry-After", "\(after)")])
        case 500: return APIFailure(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault",
                                    details: ["causes": [["message": "injected fault"]]])
        case 503: return APIFailure(code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request")
        default: return APIFailure(code: code, reason: "", message: "injected fault \(code)")
        }
    }
}
