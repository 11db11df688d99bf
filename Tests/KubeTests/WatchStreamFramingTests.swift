import CurlHTTP
import Kube
import Testing

/// Framing of watch bodies: the last line without a newline, split chunks, and the cap on one line
/// (issue 17 items 4 and 10).
struct WatchStreamFramingTests {
    static func events(_ chunks: [[UInt8]], maximumEventBytes: Int = WatchOptions.defaultMaximumEventBytes,
                       extraNexts: Int = 2) async throws -> [WatchEvent<Pod>] {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        for c in chunks { continuation.yield(c) }
        continuation.finish()
        let watch = WatchStream<Pod>(body: HTTPBodyStream(chunks: stream), maximumEventBytes: maximumEventBytes)
        var iterator = watch.makeAsyncIterator()
        var out: [WatchEvent<Pod>] = []
        while let e = try await iterator.next() { out.append(e) }
        // Asking again after the end (every `for await` over a finished iterator may) returns nil, never traps.
        for _ in 0..<extraNexts {
            let again = try await iterator.next()
            #expect(again == nil)
        }
        return out
    }

    static let added = Array(#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}}"#.utf8)

    @Test func lastLineWithoutNewlineIsDeliveredAndTheNextCallEnds() async throws {
        let events = try await Self.events([Self.added])
        #expect(events.count == 1)
        #expect(events.first?.object?.name == "a")
    }

    @Test func emptyAfterAnUnterminatedLineFollowingCompleteOnes() async throws {
        let events = try await Self.events([Self.added + [10] + Self.added + [10, 32, 13] + Self.added])
        #expect(events.count == 3)
    }

    @Test func linesSplitAcrossManySmallChunksDecode() async throws {
        let body = Array((0..<50).map { _ in Self.added + [10] }.joined())
        let chunks = stride(from: 0, to: body.count, by: 7).map { Array(body[$0..<min($0 + 7, body.count)]) }
        #expect(try await Self.events(chunks).count == 50)
    }

    @Test func aLineLongerThanTheCapEndsTheWatchWithADecodingError() async throws {
        let huge = Array(#"{"type":"ADDED","object":{"metadata":{"name":""#.utf8) + [UInt8](repeating: 120, count: 5000)
        await #expect { _ = try await Self.events([huge], maximumEventBytes: 1024, extraNexts: 0) } throws: {
            ($0 as? KubeError)?.code == .decoding && "\($0)".contains("1024")
        }
        // Without a newline in sight the cap trips while the line is still arriving.
        await #expect { _ = try await Self.events(Array(repeating: [UInt8](repeating: 32, count: 600), count: 4),
                                                  maximumEventBytes: 1024, extraNexts: 0) } throws: {
            ($0 as? KubeError)?.code == .decoding
        }
        // A line at the cap passes.
        let exact = Self.added + [UInt8](repeating: 32, count: 1024 - Self.added.count)
        #expect(try await Self.events([exact, [10]], maximumEventBytes: 1024).count == 1)
    }
}

