import CSI
import Foundation
import Kube
import Logging
import Synchronization

/// What every pod worker of one kubelet shares.
struct KubeletContext: Sendable {
    let client: KubeClient
    let nodeName: String
    let layout: ClusterLayout
    let images: ImageTable
    let processes: PodProcesses
    let node: NodeClient
    let events: EventRecorder
    let logger: Logger
    /// Volume IDs staged on this node → pods using them (NodeUnstage waits for the last one).
    let volumeUsers: VolumeUsers

    var directory: URL { layout.kubeletDirectory(nodeName) }

    func use(_ volumeID: String, by pod: String, _ on: Bool) {
        volumeUsers.users.withLock { u in
            if on { u[volumeID, default: []].insert(pod) } else { u[volumeID]?.remove(pod) }
        }
    }

    func isUsed(_ volumeID: String) -> Bool { volumeUsers.users.withLock { !($0[volumeID] ?? []).isEmpty } }

    static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}

/// Volume IDs staged on a node → the pods using them.
final class VolumeUsers: Sendable {
    let users = Mutex<[String: Set<String>]>([:])
}
