import CSI
import GRPCTransport
import Testing

/// The CSI final / may-still-be-in-progress split, row by row against external-provisioner's `checkError`.
struct CSIOperationStateTests {
    struct Row: Sendable, CustomStringConvertible {
        var code: RPCStatusCode
        var withoutTopology: CSIOperationState
        var withSelectedNode: CSIOperationState
        var description: String { "\(code)" }
    }

    /// Every gRPC code: upstream's switch, spelled out (kubernetes.md §1.7).
    static let rows: [Row] = [
        Row(code: .cancelled, withoutTopology: .mayBeInProgress, withSelectedNode: .mayBeInProgress),
        Row(code: .unknown, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .invalidArgument, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .deadlineExceeded, withoutTopology: .mayBeInProgress, withSelectedNode: .mayBeInProgress),
        Row(code: .notFound, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .alreadyExists, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .permissionDenied, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .resourceExhausted, withoutTopology: .final, withSelectedNode: .reschedule),
        Row(code: .failedPrecondition, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .aborted, withoutTopology: .mayBeInProgress, withSelectedNode: .mayBeInProgress),
        Row(code: .outOfRange, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .unimplemented, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .internal, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .unavailable, withoutTopology: .mayBeInProgress, withSelectedNode: .mayBeInProgress),
        Row(code: .dataLoss, withoutTopology: .final, withSelectedNode: .final),
        Row(code: .unauthenticated, withoutTopology: .final, withSelectedNode: .final),
        Row(code: RPCStatusCode(rawValue: 99), withoutTopology: .final, withSelectedNode: .final),
    ]

    @Test(arguments: rows)
    func statusCodeDecidesWhetherTheOperationMayStillRun(_ row: Row) {
        let error = RPCError(row.code, "driver said so", method: "/csi.v1.Controller/CreateVolume")
        #expect(CSIOperationState(of: error) == row.withoutTopology)
        #expect(CSIOperationState(of: error, mayReschedule: true) == row.withSelectedNode)
    }

    @Test func internalAndUnknownAreFinalAndNotTransient() {
        for code in [RPCStatusCode.internal, .unknown] {
            let error = RPCError(code, "driver bug")
            #expect(CSIOperationState(of: error) == .final)
            #expect(error.retry == .permanent)
            #expect(RetryClass.of(error) == .permanent)
        }
    }

    @Test func anErrorThatIsNotAGRPCStatusMayLeaveAnEarlierCallRunning() {
        struct LocalFailure: Error {}
        #expect(CSIOperationState(of: LocalFailure()) == .mayBeInProgress)
        #expect(CSIOperationState(of: CancellationError()) == .mayBeInProgress)
    }

    @Test func onlyInvalidArgumentIsInfeasible() {
        #expect(CSIOperationState.isInfeasible(RPCError(.invalidArgument, "bad capacity")))
        #expect(!CSIOperationState.isInfeasible(RPCError(.outOfRange, "too small")))
        #expect(!CSIOperationState.isInfeasible(CancellationError()))
    }
}
