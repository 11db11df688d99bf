internal import CGRPC
public import Logging
import Synchronization

/// Options for one call.
public struct CallOptions: Sendable {
    /// The call's deadline, relative to its start; it travels to the server as `grpc-timeout`. `nil` = none.
    public var timeout: Duration?
    /// Wait for the connection to become ready instead of failing fast with UNAVAILABLE while the server is
    /// down (bounded by ``timeout``). Use this to ride out a driver restart.
    public var waitForReady: Bool

    public init(timeout: Duration? = nil, waitForReady: Bool = false) {
        self.timeout = timeout
        self.waitForReady = waitForReady
    }
}

/// Client channel settings.
public struct ChannelConfiguration: Sendable {
    /// Largest response accepted; larger ones fail with RESOURCE_EXHAUSTED. gRPC's default is 4 MiB.
    public var maxReceiveMessageBytes: Int
    /// Largest request sent; `nil` = unlimited (gRPC's default).
    public var maxSendMessageBytes: Int?
    /// First and longest delay between reconnect attempts after the server went away. Local sockets come back
    /// fast, so the defaults (100 ms, 2 s) are far below gRPC's (1 s, 120 s).
    public var initialReconnectBackoff: Duration
    public var maxReconnectBackoff: Duration
    /// How long the completion-queue thread keeps polling for the next completion, yielding the CPU between
    /// polls, before it sleeps in the kernel. A thread that slept must be woken, and on a virtual machine whose
    /// CPU went idle that costs 15–20 µs per wake-up, several times per call; polling through the short gaps
    /// inside a burst of calls avoids them. The cost is CPU time: at most this long after each completion, and
    /// only while calls are completing. Zero turns busy polling off.
    public var busyPoll: Duration

    public init(
        maxReceiveMessageBytes: Int = 4 * 1024 * 1024, maxSendMessageBytes: Int? = nil,
        initialReconnectBackoff: Duration = .milliseconds(100), maxReconnectBackoff: Duration = .seconds(2),
        busyPoll: Duration = .microseconds(200)
    ) {
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.maxSendMessageBytes = maxSendMessageBytes
        self.initialReconnectBackoff = initialReconnectBackoff
        self.maxReconnectBackoff = maxReconnectBackoff
        self.busyPoll = busyPoll
    }
}

/// A client connection to one gRPC server on a Unix socket, for unary calls.
///
/// Thread-safe: any number of tasks may call ``unary(method:request:options:)`` concurrently; they share one
/// HTTP/2 connection and one completion-queue thread. The channel connects lazily on the first call and
/// reconnects by itself after the server restarts. Call ``close()`` when done (deinit also closes).
public final class GRPCChannel: Sendable {
    /// The normalised target, `unix:///path`.
    public let target: String
    private let channel: SendablePointer
    let queue: CompletionQueue
    private let logger: Logger
    /// Registered-call handles by method path (`grpc_channel_register_call`), and whether the channel is closed.
    private let state: Mutex<State>

    private struct State {
        var handles: [String: RegisteredCall] = [:]
        var closed = false
    }

    /// `@unchecked Sendable`: an opaque handle gRPC owns for the channel's lifetime; only passed back to it.
    private struct RegisteredCall: @unchecked Sendable { let handle: UnsafeMutableRawPointer? }

    /// Creates the channel; no connection is made until the first call.
    /// - Parameter target: `unix:///path`, `unix:/path` or an absolute socket path.
    /// - Throws: ``GRPCTransportError`` for an unusable address.
    public init(target: String, configuration: ChannelConfiguration = .init(), logger: Logger) throws(GRPCTransportError) {
        let normalized = try normalizedUnixAddress(target)
        GRPCLibrary.retain()
        var args = ChannelArguments()
        args.set(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, configuration.maxReceiveMessageBytes)
        args.set(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, configuration.maxSendMessageBytes ?? -1)
        let initialBackoff = Int(configuration.initialReconnectBackoff.wholeUnits(of: .milliseconds(1)))
        args.set(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, initialBackoff)
        // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC core also uses it as the connect-attempt timeout, and a
        // small value makes connections fail ("timed out before receiving SETTINGS frame") on a loaded machine.
        args.set(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, Int(configuration.maxReconnectBackoff.wholeUnits(of: .milliseconds(1))))
        let creds = grpc_insecure_credentials_create()
        let raw = args.withChannelArgs { grpc_channel_create(normalized, creds, $0) }
        grpc_channel_credentials_release(creds)
        guard let raw else {
            GRPCLibrary.release()
            throw GRPCTransportError(.channelCreationFailed, "grpc_channel_create failed", address: normalized)
        }
        self.target = normalized
        self.channel = SendablePointer(raw: raw)
        self.queue = CompletionQueue(name: "ferry-grpc-cli", busyPoll: configuration.busyPoll)
        self.logger = logger
        self.state = Mutex(State())
    }

    /// Performs one unary call.
    ///
    /// Cancelling the calling task cancels the RPC (the server's handler sees the cancellation); the call then
    /// fails with CANCELLED. The task never blocks a cooperative thread.
    /// - Parameters:
    ///   - method: the full path, e.g. `/csi.v1.Identity/Probe`.
    ///   - request: the serialized request message.
    /// - Returns: the serialized response message.
    /// - Throws: ``RPCError`` with the server's (or gRPC core's) status when the status is not OK.
    public func unary(method: String, request: [UInt8], options: CallOptions = .init()) async throws -> [UInt8] {
        guard !Task.isCancelled else { throw RPCError(.cancelled, "the calling task was cancelled", method: method) }
        guard let handle = registeredCall(method) else {
            throw RPCError(.unavailable, "channel is closed", method: method)
        }
        let deadline: gpr_timespec
        if let timeout = options.timeout {
            deadline = cgrpc_deadline_after_micros(timeout.wholeUnits(of: .microseconds(1)))
        } else {
            deadline = gpr_inf_future(GPR_CLOCK_MONOTONIC)
        }
        guard let rawCall = grpc_channel_create_registered_call(
            channel.raw, nil, cgrpc_propagate_defaults(), queue.raw, handle.handle, deadline, nil)
        else {
            throw RPCError(.internal, "gRPC core refused to create the call", method: method)
        }
        let call = SendablePointer(raw: rawCall)
        defer { grpc_call_unref(rawCall) }
        let state = ClientCallState(request: request)
        let flags: UInt32 = options.waitForReady ? UInt32(GRPC_INITIAL_METADATA_WAIT_FOR_READY) : 0
        let startError: grpc_call_error = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<grpc_call_error, Never>) in
                let tag = CompletionTag.make { _ in continuation.resume(returning: GRPC_CALL_OK) }
                let error = cgrpc_client_call_start(call.raw, state.raw, flags, tag)
                if error != GRPC_CALL_OK {
                    CompletionTag.cancel(tag)
                    continuation.resume(returning: error)
                }
            }
        } onCancel: {
            _ = grpc_call_cancel(call.raw, nil)
        }
        guard startError == GRPC_CALL_OK else {
            throw RPCError(.internal, "grpc_call_start_batch failed: \(startError.rawValue)", method: method)
        }
        return try state.response(method: method)
    }

    /// Closes the channel and joins its completion-queue thread. Idempotent.
    ///
    /// Blocks the calling thread until every call started on the channel has completed, so cancel or await
    /// in-flight calls first (a `waitForReady` call without a timeout would otherwise keep it waiting).
    public func close() {
        let wasOpen = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        grpc_channel_destroy(channel.raw)
        queue.shutdownAndJoin()
        GRPCLibrary.release()
    }

    deinit { close() }

    private func registeredCall(_ method: String) -> RegisteredCall? {
        state.withLock { state in
            guard !state.closed else { return nil }
            if let existing = state.handles[method] { return existing }
            let handle = RegisteredCall(handle: grpc_channel_register_call(channel.raw, method, nil, nil))
            state.handles[method] = handle
            return handle
        }
    }
}

/// The C state of one client call, at a fixed address until the batch completes (grpc-c.md §3.5).
/// `@unchecked Sendable`: written by gRPC core until the batch's tag fires, read only after that.
private final class ClientCallState: @unchecked Sendable {
    let raw: UnsafeMutablePointer<cgrpc_client_call>

    init(request: [UInt8]) {
        raw = .allocate(capacity: 1)
        cgrpc_client_call_init(raw)
        raw.pointee.send_message = ByteBuffer.make(request)
    }

    deinit {
        cgrpc_client_call_destroy(raw)
        raw.deallocate()
    }

    func response(method: String) throws -> [UInt8] {
        let code = RPCStatusCode(rawValue: Int32(truncatingIfNeeded: raw.pointee.status.rawValue))
        guard code == .ok else {
            var message = ByteBuffer.string(of: raw.pointee.status_details)
            if message.isEmpty, let errorString = raw.pointee.error_string {
                message = String(cString: errorString)
            }
            throw RPCError(code, message, method: method)
        }
        guard let buffer = raw.pointee.recv_message else {
            throw RPCError(.internal, "the server sent status OK without a response message", method: method)
        }
        guard let bytes = ByteBuffer.bytes(of: buffer) else {
            throw RPCError(.internal, "the response message could not be read", method: method)
        }
        return bytes
    }
}
