/// A gRPC status code (the `grpc-status` trailer). Open: values this build does not name are kept as-is.
public struct RPCStatusCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = RPCStatusCode(rawValue: 0)
    public static let cancelled = RPCStatusCode(rawValue: 1)
    public static let unknown = RPCStatusCode(rawValue: 2)
    public static let invalidArgument = RPCStatusCode(rawValue: 3)
    public static let deadlineExceeded = RPCStatusCode(rawValue: 4)
    public static let notFound = RPCStatusCode(rawValue: 5)
    public static let alreadyExists = RPCStatusCode(rawValue: 6)
    public static let permissionDenied = RPCStatusCode(rawValue: 7)
    public static let resourceExhausted = RPCStatusCode(rawValue: 8)
    public static let failedPrecondition = RPCStatusCode(rawValue: 9)
    public static let aborted = RPCStatusCode(rawValue: 10)
    public static let outOfRange = RPCStatusCode(rawValue: 11)
    public static let unimplemented = RPCStatusCode(rawValue: 12)
    public static let `internal` = RPCStatusCode(rawValue: 13)
    public static let unavailable = RPCStatusCode(rawValue: 14)
    public static let dataLoss = RPCStatusCode(rawValue: 15)
    public static let unauthenticated = RPCStatusCode(rawValue: 16)

    private static let names: [Int32: String] = [
        0: "OK", 1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED", 5: "NOT_FOUND",
        6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED", 9: "FAILED_PRECONDITION",
        10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED", 13: "INTERNAL", 14: "UNAVAILABLE",
        15: "DATA_LOSS", 16: "UNAUTHENTICATED",
    ]

    /// The canonical upper-case name, e.g. `NOT_FOUND`, or `CODE_<n>` for an unnamed value.
    public var description: String { Self.names[rawValue] ?? "CODE_\(rawValue)" }
}
