package import CurlHTTP

/// One change seen by a watch.
public enum WatchEvent<T: KubeResource>: Sendable {
    case added(T)
    case modified(T)
    case deleted(T)
    /// The server's progress mark: no object, only a resourceVersion to resume from.
    case bookmark(resourceVersion: String)

    public var object: T? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o): o
        case .bookmark: nil
        }
    }
    public var resourceVersion: String? {
        switch self {
        case .bookmark(let rv): rv
        default: object?.metadata.resourceVersion
        }
    }
}

public struct WatchOptions: Sendable {
    /// Start after this version; nil or "0" starts with synthetic ADDED events for the current state.
    public var resourceVersion: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    public var allowBookmarks: Bool
    /// Server-side end of the watch.
    public var timeoutSeconds: Int?
    /// Longest event line accepted (bytes, without the newline); a longer one ends the watch with `.decoding`
    /// instead of growing the buffer without bound. etcd stores objects of at most 1.5 MiB by default.
    public var maximumEventBytes: Int
    public static let defaultMaximumEventBytes = 16 << 20
    public init(resourceVersion: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                allowBookmarks: Bool = true, timeoutSeconds: Int? = nil,
                maximumEventBytes: Int = WatchOptions.defaultMaximumEventBytes) {
        self.resourceVersion = resourceVersion
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.allowBookmarks = allowBookmarks
        self.timeoutSeconds = timeoutSeconds
        self.maximumEventBytes = maximumEventBytes
    }
}

extension KubeClient {
    /// Opens a watch: a chunked HTTP stream of one JSON event per line.
    ///
    /// The returned sequence ends when the server closes the stream (timeout); it throws ``KubeError`` with `.gone`
    /// when the start version is too old (relist, then watch from the list's version), and `.transport` when the
    /// connection breaks (resume from the last event's ``WatchEvent/resourceVersion``). Ending the iteration early
    /// closes the connection.
    public func watch<T: KubeResource>(_ type: T.Type, namespace: String?, options: WatchOptions = WatchOptions())
        async throws(KubeError) -> WatchStream<T> {
        let ns = T.resourceType.namespaced ? namespace : nil
        let target = Target(resource: T.resourceType.plural, namespace: ns)
        let query: [(String, String?)] = [
            ("watch", "true"), ("resourceVersion", options.resourceVersion),
            ("allowWatchBookmarks", options.allowBookmarks ? "true" : nil),
            ("labelSelector", options.labelSelector), ("fieldSelector", options.fieldSelector),
            ("timeoutSeconds", options.timeoutSeconds.map(String.init)),
        ]
        var forceReload = false
        for attempt in 0..<2 {
            let request = try buildRequest(method: .get, path: T.resourceType.path(namespace: ns), query: query, body: nil,
                                           contentType: nil, timeout: nil, forceTokenReload: forceReload)
            let response: HTTPStreamingResponse
            do { response = try await http.stream(request) } catch {
                throw KubeError(.transport, error.message, resource: target.resource, namespace: ns, transport: error)
            }
            if response.status == 200 {
                return WatchStream(body: response.body, maximumEventBytes: options.maximumEventBytes)
            }
            let body = (try? await response.body.collect(limit: 1 << 20)) ?? []
            if response.status == 401, attempt == 0, case .tokenFile = config.credentials { forceReload = true; continue }
            throw KubeError.fromResponse(status: response.status, body: body, retryAfterHeader: response.headers["Retry-After"],
                                         resource: target.resource, namespace: ns, name: nil)
        }
        throw KubeError(.unauthorized, "watch rejected after reloading the token", status: 401, resource: target.resource)
    }
}

/// The events of one watch connection, decoded lazily as lines arrive.
public struct WatchStream<T: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<T>
    let body: HTTPBodyStream
    let maximumEventBytes: Int

    /// Events decoded from `body` (the watch verb; tests and fuzz harnesses over a canned body).
    package init(body: HTTPBodyStream, maximumEventBytes: Int = WatchOptions.defaultMaximumEventBytes) {
        self.body = body
        self.maximumEventBytes = maximumEventBytes
    }

    /// Iterates events. After the stream ended (or a line failed), `next()` keeps returning nil.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: HTTPBodyStream.AsyncIterator
        var lines: WatchLineBuffer
        var finished = false

        public mutating func next() async throws -> WatchEvent<T>? {
            while !finished {
                let line: ArraySlice<UInt8>?
                do { line = try lines.nextLine() } catch {
                    finished = true
                    throw KubeError(.decoding, error.message, resource: T.resourceType.plural)
                }
                if let line {
                    if Self.isBlank(line) { continue }
                    return try Self.decode(line)
                }
                let chunk: [UInt8]?
                do { chunk = try await chunks.next() } catch let e as HTTPError {
                    finished = true
                    throw KubeError(.transport, e.message, resource: T.resourceType.plural, transport: e)
                }
                guard let chunk else {
                    finished = true
                    guard let rest = lines.finish(), !Self.isBlank(rest) else { return nil }
                    return try Self.decode(rest)
                }
                lines.append(chunk)
            }
            return nil
        }

        static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
            line.allSatisfy { $0 == 32 || $0 == 13 || $0 == 10 || $0 == 9 }
        }

        static func decode(_ line: ArraySlice<UInt8>) throws(KubeError) -> WatchEvent<T> {
            let event: JSONObject
            do { event = try JSONCoding.parse(line).object ?? [:] } catch {
                throw KubeError(.decoding, "watch event: \(error)", resource: T.resourceType.plural)
            }
            let object = event["object"]?.object ?? [:]
            switch event["type"]?.string {
            case "ADDED": return .added(T(object: object))
            case "MODIFIED": return .modified(T(object: object))
            case "DELETED": return .deleted(T(object: object))
            case "BOOKMARK":
                return .bookmark(resourceVersion: object["metadata"]?.object?["resourceVersion"]?.string ?? "")
            case "ERROR":
                let code = Int(object["code"]?.int ?? 500)
                throw KubeError.fromResponse(status: code, body: JSONCoding.serialize(.object(object)), retryAfterHeader: nil,
                                             resource: T.resourceType.plural, namespace: nil, name: nil)
            default:
                throw KubeError(.decoding, "unknown watch event type \(event["type"]?.string ?? "nil")",
                                resource: T.resourceType.plural)
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: body.makeAsyncIterator(), lines: WatchLineBuffer(maximumLineLength: maximumEventBytes))
    }
}
