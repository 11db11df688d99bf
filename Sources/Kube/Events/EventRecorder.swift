public import Logging
import Foundation

public enum EventType: String, Sendable { case normal = "Normal", warning = "Warning" }

/// Records core `v1` Events about objects, like client-go's recorder: identical events (same object, type, reason,
/// message and source) are folded into one Event whose `count` and `lastTimestamp` grow.
///
/// Contract: ``record(_:type:reason:message:)`` never throws (events are best effort); it returns the Event as
/// stored, or nil when the API refused it (logged). If a folded Event was deleted (TTL), a new one is created.
/// The de-duplication cache holds up to `cacheSize` distinct events (least recently used are dropped).
public actor EventRecorder {
    private struct Entry { var name: String; var namespace: String; var count: Int; var used: UInt64 }
    private let client: KubeClient
    private let component: String
    private let host: String?
    private let logger: Logger
    private let cacheSize: Int
    private let clock: any FerryClock
    private var cache: [String: Entry] = [:]
    private var tick: UInt64 = 0
    private var lastNanos: UInt64 = 0

    /// - Parameter clock: the time of `firstTimestamp`/`lastTimestamp` and of new events' name suffix.
    public init(client: KubeClient, component: String, host: String? = nil, cacheSize: Int = 4096,
                clock: any FerryClock = SystemClock(), logger: Logger) {
        self.clock = clock
        self.client = client
        self.component = component
        self.host = host
        self.cacheSize = cacheSize
        self.logger = logger
    }

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    /// Nanoseconds since the epoch for a new event's name (client-go's `%x` of UnixNano), kept strictly increasing so
    /// two events in the same nanosecond (or at the same instant of a manual clock) get different names.
    private func uniqueNanos(_ wall: Date) -> UInt64 {
        let nanos = UInt64(min(max(0, wall.timeIntervalSince1970), 1.8e10) * 1e9)
        lastNanos = max(nanos, lastNanos &+ 1)
        return lastNanos
    }

    @discardableResult
    public func record(_ object: ObjectReference, type: EventType, reason: String, message: String) async -> CoreEvent? {
        tick += 1
        let namespace = object.namespace ?? "default"
        let key = [object.apiVersion, object.kind, object.namespace, object.name, object.uid, type.rawValue, reason,
                   message, component, host].map { $0 ?? "" }.joined(separator: "\u{1}")
        let wall = clock.wallNow()
        let now = Self.timestamp(wall)
        if var entry = cache[key] {
            entry.count += 1
            entry.used = tick
            do {
                let patched = try await client.patch(CoreEvent.self, name: entry.name, namespace: entry.namespace,
                                                     mergePatch: ["count": .int(Int64(entry.count)), "lastTimestamp": .string(now)])
                cache[key] = entry
                return patched
            } catch where error.code == .notFound {
                cache[key] = nil  // expired: fall through and create a fresh one
            } catch {
                logger.info("event update failed", metadata: ["event.reason": "\(reason)", "error": "\(error)"])
                return nil
            }
        }
        var event = CoreEvent(name: "\(object.name ?? "object").\(String(uniqueNanos(wall), radix: 16))",
                              namespace: namespace)
        event.involvedObject = object
        event.type = type.rawValue
        event.reason = reason
        event.message = message
        event.count = 1
        event.firstTimestamp = now
        event.lastTimestamp = now
        event.source = EventSource(object: host.map { ["component": .string(component), "host": .string($0)] }
                                   ?? ["component": .string(component)])
        event.reportingComponent = component
        event.reportingInstance = host ?? ""
        do {
            let created = try await client.create(event)
            cache[key] = Entry(name: created.name, namespace: namespace, count: 1, used: tick)
            if cache.count > cacheSize, let oldest = cache.min(by: { $0.value.used < $1.value.used })?.key {
                cache[oldest] = nil
            }
            return created
        } catch {
            logger.info("event create failed", metadata: ["event.reason": "\(reason)", "error": "\(error)"])
            return nil
        }
    }

    public func record<T: KubeResource>(_ object: T, type: EventType, reason: String, message: String) async -> CoreEvent? {
        await record(object.reference, type: type, reason: reason, message: message)
    }
}
