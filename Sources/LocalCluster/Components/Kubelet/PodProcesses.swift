public import Foundation
import Synchronization

/// Test hooks of one local cluster (issue 11 item 6): the containers its kubelets are running, to find, pause,
/// resume or kill a pod's processes. Kubelets of the cluster whose directory is `directory` register here; tests
/// of an in-process cluster call ``forCluster(directory:)``. Out of process, the same pids are in
/// `DIR/kubelet/<node>/pods/<namespace>_<pod>/<container>.pid` (send the signal to the negative pid: each
/// container is its own process group).
///
/// A paused container stays Running in its status (a real runtime's `docker pause` also does not change the
/// pod); a killed one exits with 128 + the signal (137 for SIGKILL) and its restartPolicy applies.
public final class PodProcesses: Sendable {
    struct Key: Hashable { var namespace: String; var pod: String; var container: String }

    private static let registry = Mutex<[String: PodProcesses]>([:])
    private let running = Mutex<[Key: ContainerProcess]>([:])

    /// The hooks of the cluster in `directory` (created on first use).
    public static func forCluster(directory: URL) -> PodProcesses {
        let key = directory.standardizedFileURL.path
        return registry.withLock { r in
            if let existing = r[key] { return existing }
            let new = PodProcesses()
            r[key] = new
            return new
        }
    }

    func register(_ p: ContainerProcess, namespace: String, pod: String, container: String) {
        running.withLock { $0[Key(namespace: namespace, pod: pod, container: container)] = p }
    }

    func unregister(_ p: ContainerProcess, namespace: String, pod: String, container: String) {
        running.withLock { r in
            let key = Key(namespace: namespace, pod: pod, container: container)
            if r[key] === p { r[key] = nil }
        }
    }

    private func matching(_ namespace: String, _ pod: String, _ container: String?) -> [ContainerProcess] {
        running.withLock { r in
            r.filter { $0.key.namespace == namespace && $0.key.pod == pod && (container == nil || $0.key.container == container) }
                .map(\.value)
        }
    }

    /// The pid (= process group) of a running container, or nil.
    public func pid(namespace: String, pod: String, container: String) -> Int32? {
        matching(namespace, pod, container).first?.pid
    }

    /// Names of the pod's running containers.
    public func containers(namespace: String, pod: String) -> [String] {
        running.withLock { r in r.keys.filter { $0.namespace == namespace && $0.pod == pod }.map(\.container).sorted() }
    }

    /// Stops (SIGSTOP) the pod's containers, or one of them. Returns how many were signalled.
    @discardableResult
    public func pause(namespace: String, pod: String, container: String? = nil) -> Int {
        signal(SIGSTOP, namespace, pod, container)
    }

    /// Continues (SIGCONT) paused containers.
    @discardableResult
    public func resume(namespace: String, pod: String, container: String? = nil) -> Int {
        signal(SIGCONT, namespace, pod, container)
    }

    /// Kills the pod's containers (SIGKILL unless `signal` says otherwise), as a crash or the OOM killer would.
    @discardableResult
    public func kill(namespace: String, pod: String, container: String? = nil, signal sig: Int32 = SIGKILL) -> Int {
        let n = signal(sig, namespace, pod, container)
        if sig != SIGCONT { _ = signal(SIGCONT, namespace, pod, container) }  // a paused process must see it
        return n
    }

    private func signal(_ sig: Int32, _ namespace: String, _ pod: String, _ container: String?) -> Int {
        let targets = matching(namespace, pod, container)
        for t in targets { t.signal(sig) }
        return targets.count
    }
}
