public import GRPCTransport

/// What a failed CSI call says about the operation it asked for: finished, or maybe still running on the driver.
///
/// This is external-provisioner's `checkError` (`pkg/controller/controller.go`; kubernetes.md §1.7), which cites the
/// gRPC status-code guide and the CSI spec. It answers a different question from ``RetryClass``: a CreateVolume
/// that timed out may have created the volume, so the controller must repeat the *same* request (same name, same
/// parameters) before it may give up, change the request, or forget the volume; a final failure means the driver
/// is not working on it, and the controller may change course (and still retries with backoff).
public enum CSIOperationState: Sendable, Hashable, CustomStringConvertible {
    /// The driver is not working on the operation: it failed, or never started. INVALID_ARGUMENT, NOT_FOUND,
    /// ALREADY_EXISTS, OUT_OF_RANGE, FAILED_PRECONDITION, UNIMPLEMENTED, INTERNAL, UNKNOWN and every other code
    /// not listed under ``mayBeInProgress``; RESOURCE_EXHAUSTED when rescheduling is not possible.
    case final
    /// The operation may still be running (or may have completed) on the driver: CANCELLED (the client gave up),
    /// DEADLINE_EXCEEDED (timeout), UNAVAILABLE (server shutting down, connection broken: a previous call may
    /// still be in progress), ABORTED (CSI: an operation is already pending for this volume), and any error that
    /// is not a gRPC status at all (the call failed locally, so nothing is known about an earlier one).
    case mayBeInProgress
    /// RESOURCE_EXHAUSTED while a node was selected under topology: the driver cannot provision there; choose
    /// another node (external-provisioner drops `volume.kubernetes.io/selected-node`).
    case reschedule

    /// The state a failed CSI call leaves its operation in.
    /// - Parameters:
    ///   - error: the error the CSI client threw.
    ///   - mayReschedule: true when the call carried a selected node under topology (WaitForFirstConsumer), so
    ///     RESOURCE_EXHAUSTED can mean "try another node".
    public init(of error: any Error, mayReschedule: Bool = false) {
        guard let rpc = error as? RPCError else {
            // Not a gRPC status: the call failed before the RPC completed, and an earlier call may be running.
            self = .mayBeInProgress
            return
        }
        self.init(code: rpc.code, mayReschedule: mayReschedule)
    }

    /// The state for a gRPC status code (see ``init(of:mayReschedule:)``).
    public init(code: RPCStatusCode, mayReschedule: Bool = false) {
        switch code {
        case .resourceExhausted:
            // CSI: "unable to provision in accessible_topology". It could also be a transport message-size limit;
            // like upstream, assume the limits are large enough that the driver sent it.
            self = mayReschedule ? .reschedule : .final
        case .cancelled, .deadlineExceeded, .unavailable, .aborted:
            self = .mayBeInProgress
        default:
            self = .final
        }
    }

    /// INVALID_ARGUMENT: the request cannot succeed as written (external-provisioner's "infeasible" error, whose
    /// retries wait the maximum backoff until the StorageClass changes).
    public static func isInfeasible(_ error: any Error) -> Bool {
        (error as? RPCError)?.code == .invalidArgument
    }

    public var description: String {
        switch self {
        case .final: "final"
        case .mayBeInProgress: "may be in progress"
        case .reschedule: "reschedule"
        }
    }
}
