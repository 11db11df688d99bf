public import GRPCTransport

/// What a failed CSI call means for the operation, as external-provisioner's `checkError` decides
/// (kubernetes.md §1.7). Written here until the shared retry classification lands (issue 17 item 7).
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

    public static func classify(_ code: RPCStatusCode, topologyInUse: Bool = false, nodeSelected: Bool = false) -> CSIErrorClass {
        switch code {
        case .cancelled, .deadlineExceeded, .unavailable, .aborted: .inProgress
        case .resourceExhausted: topologyInUse && nodeSelected ? .reschedule : .final
        case .invalidArgument: .infeasible
        default: .final
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
