internal import CGRPC

/// Pairs `grpc_init()` with `grpc_shutdown()` (grpc-c.md §3.7). gRPC core counts these calls itself, so every
/// server and channel takes one reference when it is created and returns it after its last gRPC object is gone.
enum GRPCLibrary {
    static func retain() { grpc_init() }
    static func release() { grpc_shutdown() }
}

/// A C pointer handed between the completion-queue thread and Swift tasks.
/// `@unchecked Sendable`: gRPC core objects are thread-safe for the operations Ferry performs on them
/// (start_batch is never called concurrently on one call; the owner serialises the rest).
struct SendablePointer: @unchecked Sendable {
    let raw: OpaquePointer
}
