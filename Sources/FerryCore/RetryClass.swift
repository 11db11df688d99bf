/// Whether repeating the same request may succeed: the one retry classification every Ferry module's error
/// carries (`HTTPError`, `RPCError`, `GRPCTransportError`, `KubeError`, `KopiaError`, `CSIDecodingError`).
///
/// Each module decides the class in one place from typed facts (an HTTP status, a gRPC code, a `CURLcode`),
/// never from message text. Callers that hold an error of any module ask ``RetryClass/of(_:)``.
///
/// This is "may a retry help", nothing more. Whether a CSI operation may still be running on the driver after a
/// failed call is a separate question, answered by the CSI module's `CSIOperationState` (external-provisioner's
/// `checkError`).
public enum RetryClass: Sendable, Hashable, CustomStringConvertible {
    /// The peer, the connection or the data may recover: the same request, later, may succeed.
    case transient
    /// The same request will fail the same way until something else changes (input, configuration, credentials).
    case permanent

    public var description: String {
        switch self {
        case .transient: "transient"
        case .permanent: "permanent"
        }
    }

    /// The retry class of any error: the error's own when it is a ``RetryClassifying`` error, `nil` otherwise
    /// (a `CancellationError`, or a foreign error the caller must judge itself).
    public static func of(_ error: any Error) -> RetryClass? {
        (error as? any RetryClassifying)?.retry
    }
}

/// An error that knows whether a retry may help. Every Ferry module's error type conforms.
public protocol RetryClassifying: Error {
    /// Whether repeating the same request may succeed.
    var retry: RetryClass { get }
}
