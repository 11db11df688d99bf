internal import CGRPC
import Logging
import Synchronization

/// One accepted unary call on the server, from `grpc_server_request_call` to its final batch.
///
/// Protocol (grpc-c.md §4.1): batch 1 sends empty initial metadata and receives the request; a separate
/// RECV_CLOSE_ON_SERVER batch reports cancellation (client cancel, deadline, forced shutdown) and then cancels
/// the handler task; batch 2 sends the response and status. The call is released once no batch is outstanding
/// and no handler runs (`pending` reaches 0).
///
/// `@unchecked Sendable`: `raw` is written by gRPC core only while a batch that points into it is outstanding;
/// Swift reads `recv_message` after batch 1 completed, writes `send_message` before starting batch 2, and reads
/// `cancelled` after the close batch completed. Everything else is behind `state`.
final class ServerCall: @unchecked Sendable {
    let raw: UnsafeMutablePointer<cgrpc_server_call>
    private let core: ServerCore
    private let state = Mutex(State())

    private struct State {
        /// Outstanding batches plus a running handler.
        var pending = 0
        var cancelled = false
        var handler: Task<Void, Never>?
    }

    init(core: ServerCore) {
        self.core = core
        raw = .allocate(capacity: 1)
        cgrpc_server_call_init(raw)
    }

    /// Frees the C state of a call slot that never became a call (server shutting down).
    func release() {
        cgrpc_server_call_destroy(raw)
        raw.deallocate()
    }

    /// The call was accepted: start batch 1 and the close watch (queue thread).
    func begin() {
        state.withLock { $0.pending = 2 }
        let receiveTag = CompletionTag.make { success in self.received(success: success) }
        if cgrpc_server_call_start_receive(raw, receiveTag) != GRPC_CALL_OK {
            CompletionTag.cancel(receiveTag)
            done()
        }
        let closeTag = CompletionTag.make { _ in self.closed() }
        if cgrpc_server_call_watch_close(raw, closeTag) != GRPC_CALL_OK {
            CompletionTag.cancel(closeTag)
            done()
        }
    }

    private var method: String { ByteBuffer.string(of: raw.pointee.details.method) }

    /// Batch 1 completed (queue thread): route and start the handler, or answer directly.
    private func received(success: Bool) {
        defer { done() }
        guard success, !state.withLock({ $0.cancelled }) else { return }
        let method = self.method
        guard let handler = core.handlers[method] else {
            core.logger.debug("grpc unknown method", metadata: ["grpc.method": "\(method)"])
            reply(.failure(RPCError(.unimplemented, "method \(method) is not implemented")))
            return
        }
        guard let buffer = raw.pointee.recv_message, let request = ByteBuffer.bytes(of: buffer) else {
            reply(.failure(RPCError(.internal, "the request message is missing or unreadable")))
            return
        }
        let micros = cgrpc_micros_until(raw.pointee.details.deadline)
        let deadline: ContinuousClock.Instant? =
            micros == Int64.max ? nil : ContinuousClock.now.advanced(by: .microseconds(micros))
        let context = ServerContext(method: method, deadline: deadline)
        state.withLock { state in
            state.pending += 1
            state.handler = Task {
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
        }
    }

    /// Starts batch 2 with the response or the error status. Called once, from the queue thread or the
    /// handler's task, never while another batch is being started on this call.
    private func reply(_ result: Result<[UInt8], RPCError>) {
        let code: RPCStatusCode
        let details: String
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
        var details2 = details
        let error = details2.withUTF8 { utf8 in
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
