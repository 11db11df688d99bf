public import CSI
import Synchronization

/// The topology requirement a claim's CreateVolume carried, kept until that operation ends, so a retry after a
/// timeout repeats the same request even if nodes came or went meanwhile (external-provisioner's `pvcNodeStore`,
/// `pkg/controller/cache.go`, which keeps the topology keys, node labels and requisite terms per claim UID for the
/// same reason). Forgotten when the PV was created, when CreateVolume failed for good (final, infeasible or
/// reschedule: the driver is not working on it) and when the claim is given back to the scheduler; an entry is
/// only used for the same selected node.
///
/// Thread-safety: all members may be used from any task.
public final class TopologyMemo: Sendable {
    private struct Entry { var selectedNode: String; var requirement: TopologyRequirement? }
    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// The remembered requirement (`.some(nil)` = no requirement was sent), or nil when none is remembered for
    /// this claim and node.
    public func requirement(_ uid: String, selectedNode: String) -> TopologyRequirement?? {
        entries.withLock { e in
            guard let entry = e[uid], entry.selectedNode == selectedNode else { return nil }
            return .some(entry.requirement)
        }
    }

    public func remember(_ uid: String, selectedNode: String, _ requirement: TopologyRequirement?) {
        entries.withLock { $0[uid] = Entry(selectedNode: selectedNode, requirement: requirement) }
    }

    public func forget(_ uid: String) { _ = entries.withLock { $0.removeValue(forKey: uid) } }

    public var count: Int { entries.withLock { $0.count } }
}
