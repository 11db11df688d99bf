public import Kube
import Synchronization

/// Live GETs of source objects (VolumeSnapshot, VolumeSnapshotContent, source PersistentVolumeClaim and its PV)
/// shared by the claims that need the same object at the same moment: a GET that started less than `window` ago
/// (or is still in flight) answers every reader of that object, instead of one GET per claim. A thousand claims
/// restoring one snapshot then cost a handful of reads, not two thousand (kubernetes.md §1.5 asks for live reads,
/// not cache reads: these still are — at most `window` old, and never older than the informer's last event for the
/// object, because ``invalidate(_:name:namespace:)`` drops a shared read when the informer sees a change).
///
/// Thread-safety: all members may be used from any task.
public final class SharedReads: Sendable {
    struct Entry: Sendable {
        var started: ContinuousClock.Instant
        var task: any Sendable
    }

    public let window: Duration
    private let entries = Mutex<[String: Entry]>([:])

    public init(window: Duration = .milliseconds(250)) { self.window = window }

    static func key<T: KubeResource>(_ type: T.Type, _ name: String, _ namespace: String?) -> String {
        "\(T.resourceType.group)/\(T.resourceType.plural)/\(namespace ?? "")/\(name)"
    }

    /// The object (nil = not found), read with `kube.get` unless a read of it started within the window.
    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String?, kube: any KubeVerbs)
        async throws(KubeError) -> T? {
        let key = Self.key(type, name, namespace)
        let now = ContinuousClock.now
        let task: Task<Result<T?, KubeError>, Never> = entries.withLock { e in
            if let entry = e[key], now - entry.started < window, let t = entry.task as? Task<Result<T?, KubeError>, Never> {
                return t
            }
            if e.count > 4096 { e = e.filter { now - $0.value.started < window } }
            let t = Task<Result<T?, KubeError>, Never> {
                do throws(KubeError) {
                    return .success(try await kube.get(T.self, name: name, namespace: namespace))
                } catch {
                    return error.code == .notFound ? .success(nil) : .failure(error)
                }
            }
            e[key] = Entry(started: now, task: t)
            return t
        }
        return try await task.value.get()
    }

    /// Forgets the shared read of one object (its informer saw a change): the next reader GETs it again.
    public func invalidate<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) {
        _ = entries.withLock { $0.removeValue(forKey: Self.key(type, name, namespace)) }
    }
}
