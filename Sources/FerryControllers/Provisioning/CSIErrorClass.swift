public import GRPCTransport
import CSI

/// What a failed CSI call means for the operation, as external-provisioner's `checkError` decides
/// (kubernetes.md §1.7), on top of the shared `CSIOperationState`.
public enum CSIErrorClass: Sendable, Hashable {
    /// The driver may still be working on it (CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE, ABORTED): repeat the same
    /// request; never treat the volume as absent.
    case inProgress
    /// The call failed for good (everything else, INTERNAL and UNKNOWN included): report and retry later.
    case final
    /// INVALID_ARGUMENT: "infeasible"; retries are delayed to the maximum interval.
    case infeasible
    /// RESOURCE_EXHAUSTED with topology and a selected node: let the scheduler choose another node.
    case reschedule

    /// Delegates to the shared ``CSIOperationState`` (external-provisioner's `checkError`) and adds the
    /// infeasible case.
    public static func classify(_ code: RPCStatusCode, topologyInUse: Bool = false, nodeSelected: Bool = false) -> CSIErrorClass {
        classify(RPCError(code, ""), topologyInUse: topologyInUse, nodeSelected: nodeSelected)
    }

    public static func classify(_ error: any Error, topologyInUse: Bool = false, nodeSelected: Bool = false) -> CSIErrorClass {
        if CSIOperationState.isInfeasible(error) { return .infeasible }
        switch CSIOperationState(of: error, mayReschedule: topologyInUse && nodeSelected) {
        case .final: return .final
        case .mayBeInProgress: return .inProgress
        case .reschedule: return .reschedule
        }
    }

    /// The Warning event text for a failed CreateVolume (infeasible errors get upstream's extra sentence).
    public static func eventMessage(_ error: RPCError) -> String {
        let base = "rpc error: code = \(Self.goName(error.code)) desc = \(error.message)"
        if classify(error.code) == .infeasible {
            return "Volume provisioning failed with infeasible error. Retries will be delayed. \(base)"
        }
        return base
    }

    /// grpc-go's code names (`InvalidArgument`), as upstream messages print them.
    static func goName(_ code: RPCStatusCode) -> String {
        code.description.split(separator: "_").map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined()
    }
}
