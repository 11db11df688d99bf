public import Foundation

/// Where the simulated components keep their files under the cluster directory DIR, and the names of its nodes.
/// The interface scripts rely on (README, "The local control plane"): `DIR/csi.sock`, `DIR/volumes/<volumeHandle>/`,
/// `DIR/logs/<namespace>/<pod>/<container>.log`; the rest is internal.
public struct ClusterLayout: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `node-1` … `node-N` (at least one).
    public static func nodeNames(_ count: Int) -> [String] { (1...max(1, count)).map { "node-\($0)" } }

    /// The CSI driver's controller socket (Identity, Controller, and Node for the first node).
    public var csiSocket: String { directory.appendingPathComponent("csi.sock").path }
    /// The Node-service socket of one node's CSI plugin (what the kubelet of that node talks to).
    public func nodePluginSocket(_ node: String) -> String {
        directory.appendingPathComponent("plugins/\(node)/csi.sock").path
    }
    /// A volume's data.
    public func volumeDirectory(_ handle: String) -> URL { directory.appendingPathComponent("volumes/\(handle)") }
    /// A container's log file.
    public func logFile(namespace: String, pod: String, container: String) -> URL {
        directory.appendingPathComponent("logs/\(namespace)/\(pod)/\(container).log")
    }
    /// One node's kubelet state (pod volume links, staging paths, termination-message files, pid files).
    public func kubeletDirectory(_ node: String) -> URL { directory.appendingPathComponent("kubelet/\(node)") }
}

/// Suspends until the calling task is cancelled.
func waitUntilCancelled() async {
    while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
}
