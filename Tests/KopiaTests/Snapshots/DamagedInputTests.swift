import Kopia
import KopiaTestSupport
import Testing

/// Truncations and bit flips of every structure these layers parse: each must throw a `KopiaError` or parse,
/// never crash (issue 2, item 8).
struct DamagedInputTests {
    static let directory = Array("""
        {"stream":"kopia:directory","entries":[{"name":"bin","type":"d","mode":"020000755",\
        "mtime":"2026-11-20T23:52:17.969182578-07:00","obj":"k775264b8fc7e19ceeed7b791c9750a69",\
        "summ":{"size":31,"files":1,"symlinks":0,"dirs":1,"maxTime":"2026-11-20T23:52:17Z","numFailed":0}},\
        {"name":"link","type":"s","mode":"0777","size":10,"mtime":"2026-11-20T23:52:17Z",\
        "obj":"Ix339ea08198e8c59d1502c1e7fa3d4f74"}],"summary":{"size":31}}
        """.utf8)
    static let list = Array("""
        {"stream":"kopia:indirect","entries":[{"l":3231820,"o":"235f03ad6be21d9e6d505b5a9e0bb930"},\
        {"s":3231820,"l":8388608,"o":"Z7bd246f219fe4f89f47539427e0cf8fe"}]}
        """.utf8)
    static let objectID = ObjectID(contentID: ContentID(prefix: UInt8(ascii: "k"), hash: Array(repeating: 7, count: 16)))

    /// Every prefix, and the original with one bit flipped at every position (8 variants per byte, sampled).
    static func variants(_ bytes: [UInt8]) -> [[UInt8]] {
        var out = (0..<bytes.count).map { Array(bytes[..<$0]) }
        for i in bytes.indices {
            var flipped = bytes
            flipped[i] ^= UInt8(1) << UInt8(i % 8)
            out.append(flipped)
        }
        return out
    }

    @Test func damagedDirectoryListingsThrowOrParse() {
        for v in Self.variants(Self.directory) {
            do {
                _ = try Directory.parse(v, objectID: Self.objectID)
            } catch {
                #expect(error.code == .invalidDirectory)
            }
        }
    }

    @Test func damagedChunkListsThrowOrParse() {
        for v in Self.variants(Self.list) {
            do {
                _ = try IndirectObjectList.parse(v, objectID: Self.objectID)
            } catch {
                #expect(error.code == .corruptContent)
            }
        }
    }

    @Test func damagedManifestContentsThrowOrParse() throws {
        let plaintext = try ManifestBuilder.content([
            ManifestBuilder.snapshot(id: "e89466437067fceda9767a7212f8c974",
                                     source: SnapshotSource(userName: "u", host: "h", path: "/data"),
                                     start: "2026-11-21T00:00:49.840950734Z", end: "2026-11-21T00:00:49.843428707Z"),
        ])
        let cid = ContentID(prefix: UInt8(ascii: "m"), hash: Array(repeating: 1, count: 16))
        for v in Self.variants(plaintext) {
            do {
                let entries = try ManifestStore.parseContent(v, contentID: cid)
                for e in entries where e.type == "snapshot" {
                    do { _ = try SnapshotManifest(entry: e) } catch { #expect(error.code == .invalidManifest) }
                }
            } catch {
                #expect(error.code == .invalidManifest)
            }
        }
    }

    @Test func damagedIDsAndTimesThrowOrParse() {
        // Each either parses or throws its one documented error code.
        for v in Self.variants(Array("IIx339ea08198e8c59d1502c1e7fa3d4f74".utf8)) {
            do { _ = try ObjectID(parsing: String(decoding: v, as: UTF8.self)) } catch {
                #expect(error.code == .invalidObjectID)
            }
        }
        for v in Self.variants(Array("2026-11-20T23:52:17.969182578-07:00".utf8)) {
            do {
                let t = try KopiaTime(rfc3339: String(decoding: v, as: UTF8.self))
                #expect(try KopiaTime(rfc3339: t.description) == t)  // whatever parses prints back parseably
            } catch {
                #expect(error.code == .invalidArgument)
            }
        }
        for v in Self.variants(Array("webapp-backup-production@production:/data".utf8)) {
            do { _ = try IdentityPattern(parsing: String(decoding: v, as: UTF8.self)) } catch {
                #expect(error.code == .invalidArgument)
            }
        }
    }
}
