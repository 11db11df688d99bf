public import GRPCTransport
public import Logging

/// Serves Swift implementations of the CSI services on a Unix socket through ``GRPCServer``.
///
/// Services not given answer UNIMPLEMENTED, as do unknown methods. A request that does not decode answers
/// INVALID_ARGUMENT and the server keeps serving. Run it as a service (``run(gracePeriod:)`` returns after the
/// calling task is cancelled and the server stopped) or call ``shutdown(gracePeriod:)``.
public final class CSIServer: Sendable, FerryService {
    public let transport: GRPCServer

    /// Binds and starts serving.
    /// - Throws: ``GRPCTransportError`` when the address is unusable or cannot be bound.
    public init(
        configuration: ServerConfiguration, identity: any IdentityService, controller: (any ControllerService)? = nil,
        node: (any NodeService)? = nil, logger: Logger
    ) throws(GRPCTransportError) {
        var handlers = identity.unaryHandlers
        if let controller { handlers.merge(controller.unaryHandlers) { first, _ in first } }
        if let node { handlers.merge(node.unaryHandlers) { first, _ in first } }
        transport = try GRPCServer(configuration: configuration, handlers: handlers, logger: logger)
    }

    /// The `unix:///…` address served.
    public var address: String { transport.address }

    /// Graceful shutdown; see ``GRPCServer/shutdown(gracePeriod:)``.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        await transport.shutdown(gracePeriod: gracePeriod)
    }

    /// Serves until the calling task is cancelled, then shuts down; see ``GRPCServer/run(gracePeriod:)``.
    public func run(gracePeriod: Duration) async throws { try await transport.run(gracePeriod: gracePeriod) }

    /// ``run(gracePeriod:)`` with a 5 s grace period.
    public func run() async throws { try await transport.run() }
}

/// Wraps a typed method as a transport handler: decode (INVALID_ARGUMENT on failure), call, encode.
func serving<Request: CSIMessage, Response: CSIMessage>(
    _ method: @escaping @Sendable (Request, ServerContext) async throws -> Response
) -> UnaryHandler {
    { bytes, context in
        let request: Request
        do {
            request = try Request(serializedBytes: bytes)
        } catch {
            throw RPCError(.invalidArgument, "the request could not be decoded: \(error)", method: context.method)
        }
        return try await method(request, context).serializedBytes()
    }
}
