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
/// reconnects by itself after the server restarts.
///
/// Lifecycle (a ``LifecyclePhase``): running from init → stopping → stopped. Stop it with ``stop()`` (cancels
/// calls in flight, releases gRPC and joins the queue thread without blocking the task), or run it as a service:
/// ``run()`` returns once the calling task is cancelled and the channel has stopped. ``close()`` starts the same
/// stop and returns at once (for `defer` and synchronous code); deinit also closes, without blocking.
public final class GRPCChannel: Sendable, FerryService {
    /// The normalised target, `unix:///path`.
    public let target: String
    private let channel: SendablePointer
    let queue: CompletionQueue
    private let logger: Logger
    /// Registered-call handles by method path (`grpc_channel_register_call`), and whether the channel is closed.
    private let state: Mutex<State>

    private struct State {
        var handles: [String: RegisteredCall] = [:]
        var phase = LifecyclePhase.running
        /// Calls started and not yet released, so ``stop()`` can cancel them.
        var calls: [UInt64: SendablePointer] = [:]
        var nextCallID: UInt64 = 0
        /// Later callers of stop(), resumed (with false) once the channel has stopped.
        var stopWaiters: [CheckedContinuation<Bool, Never>] = []
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
        // Created under the lock, so stop() either sees the call (and cancels it) or refuses it.
        let created = state.withLock { state -> (UInt64, SendablePointer)? in
            guard state.phase == .running, let rawCall = grpc_channel_create_registered_call(
                channel.raw, nil, cgrpc_propagate_defaults(), queue.raw, handle.handle, deadline, nil)
            else { return nil }
            state.nextCallID += 1
            state.calls[state.nextCallID] = SendablePointer(raw: rawCall)
            return (state.nextCallID, SendablePointer(raw: rawCall))
        }
        guard let (callID, call) = created else {
            throw RPCError(state.withLock { $0.phase == .running } ? .internal : .unavailable,
                           "gRPC core refused to create the call, or the channel is stopping", method: method)
        }
        defer {
            state.withLock { state in
                state.calls[callID] = nil
                grpc_call_unref(call.raw)
            }
        }
        let callState = ClientCallState(request: request)
        let flags: UInt32 = options.waitForReady ? UInt32(GRPC_INITIAL_METADATA_WAIT_FOR_READY) : 0
        let start: BatchStart = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<BatchStart, Never>) in
                let tag = CompletionTag.make { _ in continuation.resume(returning: .completed) }
                // Started under the lock, where stop() sets the phase: once the channel is stopping its queue may
                // be shut down, and a batch started on a shut-down queue aborts the process in gRPC core
                // (`assertion failed: grpc_cq_begin_op(cq_, notify_tag)`, call.cc) — seen in the start/stop storm.
                let error: grpc_call_error? = state.withLock { state in
                    guard state.phase == .running else { return nil }
                    return cgrpc_client_call_start(call.raw, callState.raw, flags, tag)
                }
                switch error {
                case GRPC_CALL_OK?: break
                case let error?:
                    CompletionTag.cancel(tag)
                    continuation.resume(returning: .failed(error))
                case nil:
                    CompletionTag.cancel(tag)
                    continuation.resume(returning: .channelStopping)
                }
            }
        } onCancel: {
            _ = grpc_call_cancel(call.raw, nil)
        }
        switch start {
        case .completed: return try callState.response(method: method)
        case .failed(let error):
            throw RPCError(.internal, "grpc_call_start_batch failed: \(error.rawValue)", method: method)
        case .channelStopping:
            throw RPCError(.cancelled, "the channel stopped before the call started", method: method)
        }
    }

    /// How starting a call's batch ended.
    private enum BatchStart: Sendable {
        case completed
        case failed(grpc_call_error)
        case channelStopping
    }

    /// Where the channel is in its life.
    public var phase: LifecyclePhase { state.withLock { $0.phase } }

    /// Stops the channel: refuses new calls (UNAVAILABLE), cancels calls in flight (they fail with CANCELLED),
    /// destroys the channel and waits — without blocking the calling thread — until the completion-queue thread
    /// has drained and exited. Idempotent: every caller returns once the channel has stopped.
    public func stop() async {
        close()
        await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let stopped = state.withLock { state -> Bool in
                if state.phase == .stopped { return true }
                state.stopWaiters.append(c)
                return false
            }
            if stopped { c.resume(returning: false) }
        }
    }

    /// Keeps the channel open until the calling task is cancelled, then ``stop()``s it and returns.
    /// - Throws: ``LifecycleError`` when the channel is already stopping or stopped.
    public func run() async throws {
        let phase = self.phase
        guard phase == .running else { throw LifecycleError(component: "grpc channel \(target)", from: phase, to: .running) }
        await waitUntilCancelled()
        await stop()
    }

    /// Begins stopping the channel and returns at once (never blocks): refuses new calls, cancels calls in
    /// flight and destroys the channel; a joiner thread joins the completion-queue thread, then the channel is
    /// stopped. Idempotent. Use ``stop()`` to wait for the end.
    public func close() {
        let first = state.withLock { state -> Bool in
            guard state.phase.beginStopping() else { return false }
            for call in state.calls.values { _ = grpc_call_cancel(call.raw, nil) }
            return true
        }
        guard first else { return }
        grpc_channel_destroy(channel.raw)
        queue.shutdownInBackground { [self] in finishStopping() }
    }

    private func finishStopping() {
        GRPCLibrary.release()
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            try? state.phase.transition(to: .stopped, component: "grpc channel")
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for w in waiters { w.resume(returning: false) }
    }

    deinit {
        // Never blocks: the queue thread is joined on a joiner thread, which then releases gRPC.
        if state.withLock({ $0.phase.beginStopping() }) {
            grpc_channel_destroy(channel.raw)
            queue.shutdownInBackground { GRPCLibrary.release() }
        }
    }

    private func registeredCall(_ method: String) -> RegisteredCall? {
        state.withLock { state in
            guard state.phase == .running else { return nil }
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
