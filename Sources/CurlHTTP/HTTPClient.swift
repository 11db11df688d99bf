public import Logging
import Synchronization

/// An asynchronous HTTP/1.1 and HTTP/2 client over one libcurl multi handle.
///
/// Contract:
/// - **Threading.** One dedicated thread per client drives libcurl; callers suspend without blocking the Swift
///   cooperative pool. All methods may be called from any task, concurrently.
/// - **Concurrency and reuse.** Any number of requests may be in flight (bounded per host by
///   ``HTTPClientConfiguration/maxConnectionsPerHost``; excess requests queue). Idle connections are cached and reused;
///   HTTP/2 connections are multiplexed.
/// - **Responses.** Every HTTP status, 4xx and 5xx included, is a response. Only transport failures throw
///   ``HTTPError``, whose ``HTTPError/code`` distinguishes refused, reset, timeout, TLS, DNS and cancellation.
/// - **Cancellation.** Cancelling the calling task aborts the transfer at once and throws `.cancelled`.
/// - **Timeouts.** ``HTTPRequest/timeout`` bounds the whole request; ``HTTPClientConfiguration/connectTimeout``
///   bounds each connect.
/// - **Redirects** are not followed; **content encoding** is not decoded (bytes arrive as sent).
/// - **Logging.** Method, status and the URL without its query at `debug`; header values and bodies never.
/// - **Lifetime.** ``shutdown()`` (or releasing the client) fails requests in flight with `.shutdown`; ``stop()``
///   does the same and waits until the client's thread has finished. As a service, ``run()`` returns once the
///   calling task is cancelled and the client has stopped. Phase: running (from init) → stopping → stopped.
public final class HTTPClient: Sendable, FerryService {
    public let configuration: HTTPClientConfiguration
    private let loop: CurlMultiLoop
    private let logger: Logger
    private let lifecycle = Mutex(LifecyclePhase.running)

    /// - Throws: ``HTTPError`` if libcurl cannot be initialised.
    public init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(), logger: Logger) throws(HTTPError) {
        self.configuration = configuration
        self.logger = logger
        self.loop = try CurlMultiLoop(configuration: configuration)
    }

    deinit { loop.shutdown() }

    /// Stops the client's thread; requests in flight fail with `.shutdown`, later ones are refused. Idempotent.
    /// Returns at once; ``stop()`` also waits for the thread.
    public func shutdown() {
        _ = lifecycle.withLock { $0.beginStopping() }
        loop.shutdown()
    }

    /// Where the client is in its life.
    public var phase: LifecyclePhase { lifecycle.withLock { $0 } }

    /// ``shutdown()``, then suspends until the client's thread has failed or finished every transfer and left its
    /// loop. Idempotent.
    public func stop() async {
        shutdown()
        await loop.waitUntilStopped()
        lifecycle.withLock { phase in if phase == .stopping { try? phase.transition(to: .stopped, component: "http client") } }
    }

    /// Serves requests until the calling task is cancelled, then ``stop()``s and returns.
    /// - Throws: ``LifecycleError`` when the client is already stopping or stopped.
    public func run() async throws {
        let phase = self.phase
        guard phase == .running else { throw LifecycleError(component: "http client", from: phase, to: .running) }
        await waitUntilCancelled()
        await stop()
    }

    /// Sends a request and returns the complete response.
    /// - Throws: ``HTTPError`` for transport failures, timeouts and cancellation (never for an HTTP status).
    public func execute(_ request: HTTPRequest) async throws(HTTPError) -> HTTPResponse {
        let transfer = try CurlTransfer(request: request, configuration: configuration)
        let loop = self.loop
        do {
            let response = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPResponse, any Error>) in
                    transfer.delivery = .full(c)
                    if !loop.submit(transfer) {
                        transfer.fail(HTTPError(.shutdown, "HTTP client shut down", url: transfer.redactedURL))
                    }
                }
            } onCancel: {
                loop.cancel(transfer)
            }
            logger.debug("http request done", metadata: [
                "http.method": "\(request.method)", "http.url": "\(transfer.redactedURL)",
                "http.status": "\(response.status)",
            ])
            return response
        } catch {
            throw log(Self.asHTTPError(error, transfer), request)
        }
    }

    /// Sends a request and returns as soon as the response head has arrived; the body follows as a stream.
    ///
    /// The returned ``HTTPStreamingResponse/body`` must be iterated (or dropped) by the caller: dropping it or
    /// cancelling the iterating task aborts the transfer. A transport failure after the head arrived is thrown by the
    /// body's iterator.
    /// - Throws: ``HTTPError`` if the head never arrives (connect, TLS, timeout, cancellation).
    public func stream(_ request: HTTPRequest) async throws(HTTPError) -> HTTPStreamingResponse {
        let transfer = try CurlTransfer(request: request, configuration: configuration)
        let loop = self.loop
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.onTermination = { termination in
            if case .cancelled = termination { loop.cancel(transfer) }
        }
        do {
            let (status, headers) = try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation {
                    (c: CheckedContinuation<(Int, HTTPHeaders), any Error>) in
                    transfer.delivery = .stream(head: c, body: continuation)
                    if !loop.submit(transfer) {
                        transfer.fail(HTTPError(.shutdown, "HTTP client shut down", url: transfer.redactedURL))
                    }
                }
            } onCancel: {
                loop.cancel(transfer)
            }
            logger.debug("http stream started", metadata: [
                "http.method": "\(request.method)", "http.url": "\(transfer.redactedURL)", "http.status": "\(status)",
            ])
            return HTTPStreamingResponse(status: status, headers: headers, body: HTTPBodyStream(stream: stream, abort: { loop.cancel(transfer) }))
        } catch {
            throw log(Self.asHTTPError(error, transfer), request)
        }
    }

    private static func asHTTPError(_ error: any Error, _ transfer: CurlTransfer) -> HTTPError {
        if let e = error as? HTTPError { return e }
        if error is CancellationError { return HTTPError(.cancelled, "cancelled", url: transfer.redactedURL) }
        return HTTPError(.transport, "\(error)", url: transfer.redactedURL)
    }

    private func log(_ error: HTTPError, _ request: HTTPRequest) -> HTTPError {
        logger.debug("http request failed", metadata: [
            "http.method": "\(request.method)", "http.url": "\(error.url)", "http.error": "\(error.code)",
        ])
        return error
    }
}
