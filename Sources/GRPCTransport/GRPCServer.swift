internal import CGRPC
public import Logging
import Synchronization

/// A unary gRPC server on a Unix socket, routing by full method path.
///
/// Created listening. Unknown methods get UNIMPLEMENTED; each accepted call runs its handler in its own task.
/// Stop it before the last reference goes, either as a service — ``run(gracePeriod:)`` returns after the calling
/// task is cancelled and the server has stopped — or with ``shutdown(gracePeriod:)``: it stops accepting, lets
/// in-flight calls finish for the grace period, then cancels the rest, waits for every handler task to return,
/// and releases all gRPC resources, joining the completion-queue thread without blocking a task.
///
/// Lifecycle: running (from init) → stopping → stopped, kept as a ``LifecyclePhase``; ``run(gracePeriod:)`` on
/// a server that is stopping or stopped throws ``LifecycleError``.
public final class GRPCServer: Sendable, FerryService {
    /// The normalised address, `unix:///path`.
    public let address: String
    let core: ServerCore

    /// Binds, starts and begins accepting calls.
    /// - Parameter handlers: handlers by full method path (`/package.Service/Method`).
    /// - Throws: ``GRPCTransportError`` `.invalidAddress` or `.bindFailed`.
    public init(
        configuration: ServerConfiguration, handlers: [String: UnaryHandler], logger: Logger
    ) throws(GRPCTransportError) {
        let normalized = try normalizedUnixAddress(configuration.address)
        GRPCLibrary.retain()
        var args = ChannelArguments()
        args.set(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, configuration.maxReceiveMessageBytes)
        args.set(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, configuration.maxSendMessageBytes ?? -1)
        let server = args.withChannelArgs { grpc_server_create($0, nil) }
        guard let server else {
            GRPCLibrary.release()
            throw GRPCTransportError(.bindFailed, "grpc_server_create failed", address: normalized)
        }
        let queue = CompletionQueue(name: "ferry-grpc-srv", busyPoll: configuration.busyPoll)
        grpc_server_register_completion_queue(server, queue.raw, nil)
        // Registered methods arrive with their request already read: one batch fewer per call. Everything
        // else comes through the generic request-call and is answered UNIMPLEMENTED.
        var methods = handlers.sorted { $0.key < $1.key }.map { path, handler in
            ServerMethod(path: path, handle: cgrpc_server_register_unary_method(server, path), handler: handler)
        }
        methods.append(ServerMethod(path: "", handle: nil, handler: nil))
        let creds = grpc_insecure_server_credentials_create()
        let bound = grpc_server_add_http2_port(server, normalized, creds)
        grpc_server_credentials_release(creds)
        guard bound != 0 else {
            grpc_server_destroy(server)
            queue.shutdownInBackground { GRPCLibrary.release() }  // init must not block; nothing to drain
            throw GRPCTransportError(
                .bindFailed, "cannot listen (does the directory exist and is it writable?)", address: normalized)
        }
        grpc_server_start(server)
        self.address = normalized
        self.core = ServerCore(
            server: SendablePointer(raw: server), queue: queue,
            handlerExecutor: configuration.startsHandlersOnQueueThread ? queue.executor : nil, logger: logger)
        for method in methods {
            for _ in 0..<max(1, configuration.pendingAccepts) { core.accept(method) }
        }
        logger.debug("grpc server listening", metadata: ["grpc.address": "\(normalized)"])
    }

    /// Number of calls accepted and not yet finished (handler returned and status sent).
    public var inFlightCalls: Int { core.inFlight }

    /// Where the server is in its life.
    public var phase: LifecyclePhase { core.phase }

    /// Graceful shutdown: stop accepting new calls, let in-flight calls finish for `gracePeriod`, then cancel
    /// those still running (their handler tasks see cancellation) and wait for every handler to return.
    /// Afterwards the socket file is gone and all gRPC resources are released. Idempotent: a second call waits
    /// until the first has finished.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        await core.shutdown(gracePeriod: gracePeriod)
    }

    /// Serves until the calling task is cancelled, then shuts down with `gracePeriod` and returns once the
    /// server has stopped (threads joined, socket removed).
    /// - Throws: ``LifecycleError`` when the server is already stopping or stopped.
    public func run(gracePeriod: Duration) async throws {
        let phase = core.phase
        guard phase == .running else {
            throw LifecycleError(component: "grpc server \(address)", from: phase, to: .running)
        }
        await waitUntilCancelled()
        await core.shutdown(gracePeriod: gracePeriod)
    }

    /// ``run(gracePeriod:)`` with a 5 s grace period.
    public func run() async throws { try await run(gracePeriod: .seconds(5)) }
}

/// The state shared by the server and its calls.
/// `@unchecked Sendable`: `server` and `queue` are immutable handles to thread-safe gRPC objects; the mutable
/// state is in `state` (a Mutex), touched from the queue thread and from handler tasks.
final class ServerCore: @unchecked Sendable {
    let server: SendablePointer
    let queue: CompletionQueue
    /// Where handler tasks start: the queue thread's executor, or `nil` for the global pool.
    let handlerExecutor: (any TaskExecutor)?
    let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var inFlight = 0
        /// Requests posted to gRPC whose tag has not been handled yet. Core can match a call just before shutdown
        /// and deliver its tag after the shutdown tag, so shutdown waits for these as well as for `inFlight`.
        var pendingRequests = 0
        /// Running from init; stopping once shutdown began; stopped when every resource is released.
        var phase = LifecyclePhase.running
        var drainWaiters: [CheckedContinuation<Void, Never>] = []
        /// Later callers of shutdown, resumed (with false) once the server has stopped.
        var stopWaiters: [CheckedContinuation<Bool, Never>] = []

        var isIdle: Bool { inFlight == 0 && pendingRequests == 0 }

        /// The shutdown waiters to resume once the server is stopping and idle; empty otherwise.
        mutating func takeDrainWaitersIfIdle() -> [CheckedContinuation<Void, Never>] {
            guard isIdle, phase != .running else { return [] }
            defer { drainWaiters = [] }
            return drainWaiters
        }
    }

    init(server: SendablePointer, queue: CompletionQueue, handlerExecutor: (any TaskExecutor)?, logger: Logger) {
        self.server = server
        self.queue = queue
        self.handlerExecutor = handlerExecutor
        self.logger = logger
    }

    var inFlight: Int { state.withLock { $0.inFlight } }
    var phase: LifecyclePhase { state.withLock { $0.phase } }

    /// Posts one request for a call to `method`. Called at start and on every accepted call (queue thread).
    ///
    /// The phase check and the post happen under one lock, so every request reaches gRPC before shutdown begins
    /// (core then fails it with the shutdown) or is never posted; each posted request is counted until its tag
    /// is handled.
    func accept(_ method: ServerMethod) {
        let call = ServerCall(core: self, method: method)
        let tag = CompletionTag.make { success in
            if success {
                self.accept(method)
                self.requestDelivered(startsCall: true)
                call.begin()
            } else {
                call.release()  // the server is shutting down; the slot was never used
                self.requestDelivered(startsCall: false)
            }
        }
        let error = state.withLock { state -> grpc_call_error? in
            guard state.phase == .running else { return nil }
            let error = if let handle = method.handle {
                cgrpc_server_request_registered_call(server.raw, handle, queue.raw, call.raw, tag)
            } else {
                cgrpc_server_request_call(server.raw, queue.raw, call.raw, tag)
            }
            if error == GRPC_CALL_OK { state.pendingRequests += 1 }
            return error
        }
        guard let error, error == GRPC_CALL_OK else {
            CompletionTag.cancel(tag)
            call.release()
            if let error {
                logger.error("grpc_server_request_call failed", metadata: ["grpc.error": "\(error.rawValue)"])
            }
            return
        }
    }

    /// A posted request's tag was handled: it became a call (counted in flight from now on) or was failed.
    private func requestDelivered(startsCall: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.pendingRequests -= 1
            if startsCall { state.inFlight += 1 }
            return state.takeDrainWaitersIfIdle()
        }
        waiters.forEach { $0.resume() }
    }

    /// A call is completely finished: its handler returned and every batch completed.
    func callFinished() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            return state.takeDrainWaitersIfIdle()
        }
        waiters.forEach { $0.resume() }
    }

    func shutdown(gracePeriod: Duration) async {
        // The first caller stops the server; later callers wait until it has stopped.
        let first = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            enum Step { case first, stopped, wait }
            let step = state.withLock { state -> Step in
                if state.phase.beginStopping() { return .first }
                if state.phase == .stopped { return .stopped }
                state.stopWaiters.append(c)
                return .wait
            }
            switch step {
            case .first: c.resume(returning: true)
            case .stopped: c.resume(returning: false)
            case .wait: break
            }
        }
        guard first else { return }
        // 1. Stop accepting; the tag fires once no call is being serviced any more.
        let notified = OneShot()
        grpc_server_shutdown_and_notify(server.raw, queue.raw, CompletionTag.make { _ in notified.signal() })
        // 2. After the grace period, cancel whatever still runs (handlers see task cancellation).
        let server = self.server
        let timer = Task {
            try await Task.sleep(for: gracePeriod)
            grpc_server_cancel_all_calls(server.raw)
        }
        await notified.wait()
        timer.cancel()
        _ = await timer.result
        // 3. Wait until every posted request was delivered, every handler task returned and every call was
        //    released: no batch may start once the queue is shut down in step 4.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.isIdle { return true }
                state.drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        // 4. Release gRPC: the server, then the queue, then grpc.
        grpc_server_destroy(server.raw)
        await queue.shutdownAndJoin()
        GRPCLibrary.release()
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            try? state.phase.transition(to: .stopped, component: "grpc server")
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for w in waiters { w.resume(returning: false) }
        logger.debug("grpc server stopped")
    }
}

/// A method the server accepts calls for: a registered path with its handler, or (no handle, no handler) the
/// catch-all for every path that was not registered.
/// `@unchecked Sendable`: `handle` is an opaque token gRPC owns for the server's lifetime; only passed back to it.
struct ServerMethod: @unchecked Sendable {
    let path: String
    let handle: UnsafeMutableRawPointer?
    let handler: UnaryHandler?
}

/// A one-time signal that any number of tasks can await.
final class OneShot: Sendable {
    private let state = Mutex<(signalled: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.signalled = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let signalled = state.withLock { state -> Bool in
                if !state.signalled { state.waiters.append(continuation) }
                return state.signalled
            }
            if signalled { continuation.resume() }
        }
    }
}
