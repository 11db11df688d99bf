/// A failed RPC: the status code and details the peer (or the local gRPC core) reported.
///
/// Thrown by ``GRPCChannel/unary(method:request:options:)``; thrown by server handlers to choose the status the
/// client sees. Equality compares the code only.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible, RetryClassifying {
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

    /// The retry class of ``code``: whether the same call, repeated later, may succeed.
    ///
    /// Transient: UNAVAILABLE (the server or connection is down), DEADLINE_EXCEEDED, ABORTED (a concurrency
    /// conflict), RESOURCE_EXHAUSTED (quota, rate), CANCELLED. Everything else is permanent, including UNKNOWN and
    /// INTERNAL: they report a failure the server did not classify (Google AIP-194: "do not retry unless you
    /// understand the specific circumstances"), so a caller that retries them anyway does so on its own backoff,
    /// not because the status said so. Whether an operation may still be running after a failed call (CSI's
    /// question) is answered separately, by the CSI module's `CSIOperationState`.
    public var retry: RetryClass {
        switch code {
        case .unavailable, .deadlineExceeded, .aborted, .resourceExhausted, .cancelled:
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
