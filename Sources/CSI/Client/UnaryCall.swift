import GRPCTransport

/// One typed unary call: encode, call, decode. Response bytes that do not decode become INTERNAL.
func unaryCall<Request: CSIMessage, Response: CSIMessage>(
    _ channel: GRPCChannel, _ method: String, _ request: Request, _ options: CallOptions
) async throws -> Response {
    let bytes = try await channel.unary(method: method, request: request.serializedBytes(), options: options)
    do {
        return try Response(serializedBytes: bytes)
    } catch {
        throw RPCError(.internal, "the response could not be decoded: \(error)", method: method, cause: error)
    }
}
