internal import CGRPC
import Logging
import Synchronization

/// One accepted unary call on the server, from its request-call to its final batch.
///
/// Protocol (grpc-c.md §4.1, with registered methods): the call arrives with its request message already read.
/// A RECV_CLOSE_ON_SERVER batch, started first, reports cancellation (client cancel, deadline, forced shutdown)
/// and then cancels the handler task; one reply batch sends initial metadata, the response and the status.
/// The call is released once no batch is outstanding and no handler runs (`pending` reaches 0).
///
/// `@unchecked Sendable`: `raw` is written by gRPC core only while a batch that points into it is outstanding;
/// Swift reads the request after the call was delivered, writes `send_message` before starting the reply batch,
/// and reads `cancelled` after the close batch completed. Everything else is behind `state`.
final class ServerCall: @unchecked Sendable {
    let raw: UnsafeMutablePointer<cgrpc_server_call>
    private let core: ServerCore
    private let method: ServerMethod
    private let state = Mutex(State())

    private struct State {
        /// Outstanding batches plus a running handler.
        var pending = 0
        var cancelled = false
        var handler: Task<Void, Never>?
    }

    init(core: ServerCore, method: ServerMethod) {
        self.core = core
        self.method = method
        raw = .allocate(capacity: 1)
        cgrpc_server_call_init(raw)
    }

    /// Frees the C state of a call slot that never became a call (server shutting down).
    func release() {
        cgrpc_server_call_destroy(raw)
        raw.deallocate()
    }

    /// The call was accepted (queue thread): watch for its end, then run the handler or answer directly.
    func begin() {
        state.withLock { $0.pending = 1 }
        let closeTag = CompletionTag.make { _ in self.closed() }
        guard cgrpc_server_call_watch_close(raw, closeTag) == GRPC_CALL_OK else {
            CompletionTag.cancel(closeTag)
            done()
            return
        }
        guard let handler = method.handler else {
            let path = ByteBuffer.string(of: raw.pointee.details.method)
            core.logger.debug("grpc unknown method", metadata: ["grpc.method": "\(path)"])
            reply(.failure(RPCError(.unimplemented, "method \(path) is not implemented")))
            return
        }
        guard let buffer = raw.pointee.recv_message, let request = ByteBuffer.bytes(of: buffer) else {
            reply(.failure(RPCError(.internal, "the request message is missing or unreadable")))
            return
        }
        let micros = cgrpc_micros_until(raw.pointee.deadline)
        let deadline: ContinuousClock.Instant? =
            micros == Int64.max ? nil : ContinuousClock.now.advanced(by: .microseconds(micros))
        let context = ServerContext(method: method.path, deadline: deadline)
        state.withLock { $0.pending += 1 }
        // With the queue-thread executor the handler may run to completion inside this initialiser.
        let task = Task(executorPreference: core.handlerExecutor) {
            let result: Result<[UInt8], RPCError>
            do {
                result = .success(try await handler(request, context))
            } catch let error as RPCError {
                result = .failure(error)
            } catch is CancellationError {
                result = .failure(RPCError(.cancelled, "the handler was cancelled"))
            } catch {
                result = .failure(RPCError(.unknown, String(describing: error)))
            }
            self.reply(result)
            self.done()
        }
        // The close watch may have fired while the task started on another thread: cancel it now, then.
        let cancelNow = state.withLock { state -> Bool in
            if state.pending > 0 { state.handler = task }
            return state.cancelled
        }
        if cancelNow { task.cancel() }
    }

    /// Starts the reply batch with the response or the error status. Called once, from the queue thread or the
    /// handler's task, after the close watch was started and never concurrently with another batch start.
    private func reply(_ result: Result<[UInt8], RPCError>) {
        let code: RPCStatusCode
        var details: String
        switch result {
        case .success(let bytes):
            raw.pointee.send_message = ByteBuffer.make(bytes)
            code = .ok
            details = ""
        case .failure(let error):
            code = error.code == .ok ? .unknown : error.code
            details = error.message
        }
        state.withLock { $0.pending += 1 }
        let tag = CompletionTag.make { _ in self.done() }
        let error = details.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { chars in
                cgrpc_server_call_start_reply(
                    raw, grpc_status_code(rawValue: .init(truncatingIfNeeded: code.rawValue)),
                    chars.baseAddress, chars.count, tag)
            }
        }
        if error != GRPC_CALL_OK {
            CompletionTag.cancel(tag)
            done()
        }
    }

    /// The close watch completed (queue thread): the call is over; cancel the handler if the client went away.
    private func closed() {
        let handler = state.withLock { state -> Task<Void, Never>? in
            state.cancelled = raw.pointee.cancelled != 0
            return state.cancelled ? state.handler : nil
        }
        handler?.cancel()
        done()
    }

    /// One outstanding piece finished; the last one releases the call.
    private func done() {
        let last = state.withLock { state -> Bool in
            state.pending -= 1
            if state.pending == 0 { state.handler = nil }
            return state.pending == 0
        }
        guard last else { return }
        release()
        core.callFinished()
    }
}
