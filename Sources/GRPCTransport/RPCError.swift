/// Whether repeating the same call may succeed.
public enum RetryClass: Sendable, Hashable {
    /// The peer or the connection may recover (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED, ...).
    case transient
    /// The same request will fail the same way (INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED, ...).
    case permanent
}

/// A failed RPC: the status code and details the peer (or the local gRPC core) reported.
///
/// Thrown by ``GRPCChannel/unary(method:request:options:)``; thrown by server handlers to choose the status the
/// client sees. Equality compares the code only.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The gRPC status code; never `.ok`.
    public var code: RPCStatusCode
    /// The status details, e.g. "volume vol-1 not found".
    public var message: String
    /// The full method path, e.g. `/csi.v1.Identity/Probe`, when known.
    public var method: String?
    /// An underlying error, when a local failure caused this status.
    public var cause: (any Error & Sendable)?
    public var fileID: String
    public var line: Int

    public init(
        _ code: RPCStatusCode, _ message: String, method: String? = nil, cause: (any Error & Sendable)? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.method = method
        self.cause = cause
        self.fileID = fileID
        self.line = line
    }

    /// The retry class of ``code``, following gRPC's guidance on which codes a client may retry.
    public var retry: RetryClass {
        switch code {
        case .unavailable, .deadlineExceeded, .aborted, .resourceExhausted, .cancelled, .unknown, .internal:
            return .transient
        default:
            return .permanent
        }
    }

    public var description: String {
        let prefix = method.map { "\($0): " } ?? ""
        return "\(prefix)\(code) \(message)"
    }

    public static func == (lhs: RPCError, rhs: RPCError) -> Bool { lhs.code == rhs.code }
}
