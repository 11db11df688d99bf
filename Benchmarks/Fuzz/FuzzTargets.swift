import CurlHTTP
import Foundation
import Kopia
import Kube

/// The parsers that take bytes or strings from outside, one fuzz target each (issue 17 item 10). A target returns
/// normally whether or not its input parses; it traps only when a parser breaks a contract that a test also checks
/// (a value that does not round-trip, a foreign error type), so libFuzzer reports those as crashes too.
enum FuzzTarget: String, CaseIterable {
    case index, directory, manifest, format, codecs, ecc, objectid, time, kubejson, watch, s3xml, epochs

    static let objectID = (try? ObjectID(parsing: "k0123456789abcdef0123456789abcdef")) ?? ObjectID.fuzzFallback
    static let contentID = ContentID(prefix: UInt8(ascii: "m"), hash: [UInt8](repeating: 7, count: 16))
    static let ecc2 = try? ErrorCorrection(name: ErrorCorrection.reedSolomonCRC32, overheadPercent: 2)
    static let ecc10 = try? ErrorCorrection(name: ErrorCorrection.reedSolomonCRC32, overheadPercent: 10)

    func run(_ data: [UInt8]) {
        switch self {
        case .index:
            _ = try? ParserEntryPoints.decodeIndex(data, hashLength: 16)
            _ = try? ParserEntryPoints.decodeIndex(data, hashLength: 32)
        case .directory:
            _ = try? Directory.parse(data, objectID: Self.objectID)
        case .manifest:
            // The fuzzer writes the JSON; gzip (which it could not get past) is applied here.
            guard let gz = try? Compression.compress(data, using: .gzipBestSpeed),  // level 1: cheap per execution
                  let entries = try? ManifestStore.parseContent(Array(gz.dropFirst(4)), contentID: Self.contentID)
            else { return }
            for e in entries { _ = try? SnapshotManifest(entry: e) }
        case .format:
            _ = try? FormatBlob.decode(data)
            _ = try? RepositoryParameters.decode(data)
            _ = try? ShardingParameters.decode(data)
        case .codecs:
            guard let selector = data.first else { return }
            let rest = Array(data.dropFirst())
            let algorithms = CompressionAlgorithm.allCases
            let algorithm = algorithms[Int(selector) % algorithms.count]
            expectKopia { _ = try Compression.decompress(rest, algorithm: algorithm, maxOutputSize: 256 << 10) }
            expectKopia { _ = try Compression.decompress(rest, maxOutputSize: 256 << 10) }
            _ = try? ParserEntryPoints.decodeS2Block(rest, capacity: Int(selector) * 64)
        case .ecc:
            expectKopia { _ = try Self.ecc2?.decode(data) }
            expectKopia { _ = try Self.ecc10?.decode(data) }
        case .objectid:
            let text = String(decoding: data, as: UTF8.self)
            if let id = try? ObjectID(parsing: text) {
                guard (try? ObjectID(parsing: id.description)) == id else { fatalError("object ID \(text) does not round-trip") }
            }
            _ = try? IndirectObjectList.parse(data, objectID: Self.objectID)
            _ = try? IdentityPattern(parsing: text)
            _ = try? SnapshotSource(parsing: text)
            _ = try? RepositoryLocation(parsing: text)
            _ = try? S3Endpoint.parse(text)
        case .time:
            let text = String(decoding: data, as: UTF8.self)
            if let t = try? KopiaTime(rfc3339: text) {
                guard let again = try? KopiaTime(rfc3339: t.description), again == t else {
                    fatalError("KopiaTime \(text) prints as \(t.description), which does not parse back")
                }
            }
            _ = ParserEntryPoints.parseS3Time(text)
        case .kubejson:
            guard let value = try? JSONCoding.parse(data) else { return }
            guard let again = try? JSONCoding.parse(JSONCoding.serialize(value)), Self.same(again, value) else {
                fatalError("JSON does not round-trip")
            }
        case .watch:
            Self.watch(data)
        case .s3xml:
            _ = try? ParserEntryPoints.parseS3Listing(data)
            _ = ParserEntryPoints.parseS3Error(data)
        case .epochs:
            let names = data.split(separator: 10).map { String(decoding: $0, as: UTF8.self) }
            _ = ParserEntryPoints.selectEpochBlobs(names)
        }
    }

    /// Decoders promise `KopiaError`; anything else is a contract break.
    private func expectKopia(_ body: () throws -> Void) {
        do { try body() } catch is KopiaError {} catch { fatalError("foreign error \(error)") }
    }

    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
        default: return a == b
        }
    }

    /// A watch body cut into chunks at the positions the first bytes choose; the iterator is asked again after
    /// it ended (the trap of issue 17 item 10).
    static func watch(_ data: [UInt8]) {
        guard data.count > 2 else { return }
        let cuts = Int(data[0] % 8) + 1
        let body = Array(data.dropFirst())
        var chunks: [[UInt8]] = []
        var start = 0
        for k in 1...cuts {
            let end = k == cuts ? body.count : min(body.count, start + Int(data[1]) * k % 97)
            if end > start { chunks.append(Array(body[start..<end])); start = end }
        }
        if start < body.count { chunks.append(Array(body[start...])) }
        let done = DispatchSemaphore(value: 0)
        Task {
            let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
            for c in chunks { continuation.yield(c) }
            continuation.finish()
            var iterator = WatchStream<Pod>(body: HTTPBodyStream(chunks: stream), maximumEventBytes: 4096)
                .makeAsyncIterator()
            do {
                while try await iterator.next() != nil {}
                for _ in 0..<2 where try await iterator.next() != nil { fatalError("watch resumed after its end") }
            } catch is KubeError {
            } catch {
                fatalError("foreign error \(error)")
            }
            done.signal()
        }
        done.wait()
    }
}

extension ObjectID {
    /// Never used: the literal above parses (kept so the harness has no force unwrap).
    static var fuzzFallback: ObjectID { fatalError("fixed object ID does not parse") }
}
