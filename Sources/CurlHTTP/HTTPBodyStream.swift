/// Body chunks of a streaming response, as an `AsyncSequence` of byte arrays.
///
/// Chunk boundaries are whatever the network delivered; they carry no meaning. Buffering is unbounded: a consumer
/// that stops reading without ending the iteration keeps the data in memory (watches are read promptly). Dropping
/// the last iterator, or cancelling the iterating task, aborts the transfer.
public struct HTTPBodyStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    let stream: AsyncThrowingStream<[UInt8], any Error>
    let abort: @Sendable () -> Void

    init(stream: AsyncThrowingStream<[UInt8], any Error>, abort: @escaping @Sendable () -> Void) {
        self.stream = stream
        self.abort = abort
    }

    /// A body that yields `chunks` (tests and fuzz harnesses of the parsers above this module).
    package init(chunks: AsyncThrowingStream<[UInt8], any Error>) {
        self.init(stream: chunks, abort: {})
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let guardian: AbortOnDrop
        public mutating func next() async throws -> [UInt8]? { try await base.next() }
    }
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: stream.makeAsyncIterator(), guardian: AbortOnDrop(abort))
    }

    /// Aborts the transfer when the iterator goes away (a `break` out of the loop); a no-op after completion.
    final class AbortOnDrop: Sendable {
        let abort: @Sendable () -> Void
        init(_ abort: @escaping @Sendable () -> Void) { self.abort = abort }
        deinit { abort() }
    }

    /// Collects the whole remaining body (for error responses of a stream).
    public func collect(limit: Int = 16 << 20) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in self {
            out += chunk
            if out.count >= limit { break }
        }
        return out
    }
}
