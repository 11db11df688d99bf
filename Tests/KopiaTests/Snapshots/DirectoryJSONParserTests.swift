import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// The fast directory parser agrees with Foundation's `JSONDecoder` on everything it accepts, and hands anything
/// unusual to it (so `Directory.parse` behaves as before, only faster).
struct DirectoryJSONParserTests {
    /// What `JSONDecoder` makes of a directory document.
    private struct Reference: Decodable {
        var stream: String?
        var entries: [DirectoryEntry]?
        var summary: DirectorySummary?
    }

    private static func reference(_ bytes: [UInt8]) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(bytes))
    }

    private static func expectAgreement(_ bytes: [UInt8], _ comment: String) throws {
        let fast = try #require(DirectoryJSONParser.parse(bytes), "fast parser declined: \(comment)")
        let slow = try reference(bytes)
        #expect(fast.stream == slow.stream, "\(comment)")
        #expect(fast.entries == slow.entries, "\(comment)")
        #expect(fast.summary == slow.summary, "\(comment)")
        // Offsets are display-only and not part of equality: compare them too.
        for (a, b) in zip(fast.entries ?? [], slow.entries ?? []) {
            #expect(a.modified.offsetSeconds == b.modified.offsetSeconds, "\(comment) \(a.name)")
        }
    }

    @Test(arguments: Fixtures.all)
    func everyFixtureDirectoryParsesAsJSONDecoderParsesIt(_ fixture: String) async throws {
        let repo = try await FixtureSnapshotTests.open(fixture)
        var seen = 0
        for snapshot in repo.catalog.snapshots {
            var stack = [snapshot.rootEntry]
            while let dir = stack.popLast() {
                guard dir.isDirectory else { continue }
                let bytes = try await repo.objects.read(dir.objectID)
                try Self.expectAgreement(bytes, "\(fixture) \(dir.objectID)")
                seen += 1
                stack += try Directory.parse(bytes, objectID: dir.objectID).entries.filter(\.isDirectory)
            }
        }
        #expect(seen > 0)
    }

    static let unusual: [String] = [
        #"{"stream":"kopia:directory","entries":null,"summary":null}"#,
        #"{"stream":"kopia:directory","entries":[]}"#,
        #" { "entries" : [ { "name" : "a\"b\\c\/d\n\t\u00e9\ud83d\ude00" , "type":"f","obj":"0123456789abcdef0123456789abcdef" } ] , "stream":"kopia:directory" } "#,
        #"{"stream":"kopia:directory","entries":[{"name":"ünïcødé 日本","type":"s","mode":"0777","size":10,"mtime":"2026-11-20T23:52:17.969182578-07:00","uid":1000,"gid":1001,"obj":"Ix339ea08198e8c59d1502c1e7fa3d4f74","unknown":{"a":[1,true,false,null,"x"]}}]}"#,
        #"{"stream":"kopia:directory","entries":[{"name":"d","type":"d","mode":"020000775","mtime":"2026-11-20T23:52:17Z","obj":"k775264b8fc7e19ceeed7b791c9750a69","summ":{"size":31,"files":1,"symlinks":0,"dirs":1,"maxTime":"2026-11-20T23:52:17Z","incomplete":"canceled","numFailed":2,"numIgnoredErrors":1,"errors":[{"path":"x","error":"boom"}]}}],"summary":{"size":-5,"files":9223372036854775807}}"#,
        #"{"stream":"kopia:directory","entries":[{"name":"n","type":null,"mode":null,"size":null,"mtime":null,"uid":null,"gid":null,"obj":"0123456789abcdef0123456789abcdef","summ":null}]}"#,
    ]

    @Test(arguments: unusual)
    func unusualButValidDocumentsParseAsJSONDecoderParsesThem(_ text: String) throws {
        try Self.expectAgreement(Array(text.utf8), text)
    }

    static let declined: [String] = [
        #"{"stream":"kopia:directory","entries":[{"name":"f","type":"f","size":1e3,"obj":"0123456789abcdef0123456789abcdef"}]}"#,
        #"{"stream":"kopia:directory","entries":[{"name":"f","type":"f","size":12.0,"obj":"0123456789abcdef0123456789abcdef"}]}"#,
        #"{"stream":"kopia:directory","entries":[{"name":"f","type":"f","uid":-1,"obj":"0123456789abcdef0123456789abcdef"}]}"#,
        #"{"stream":"kopia:directory","entries":[{"name":1,"obj":"0123456789abcdef0123456789abcdef"}]}"#,
        #"{"stream":"kopia:directory","entries":[{"name":"x","obj":"not an object id"}]}"#,
        #"{"stream":"kopia:directory","entries":[{"name":"x","obj":"0123456789abcdef0123456789abcdef"}]} trailing"#,
        #"{"stream":"kopia:directory","entries":[{"name":"\ud800","obj":"0123456789abcdef0123456789abcdef"}]}"#,
    ]

    /// Fractions, exponents, out-of-range numbers, wrong types and malformed JSON are left to `JSONDecoder`:
    /// `Directory.parse` then gives exactly its answer (a listing or an `.invalidDirectory` error).
    @Test(arguments: declined)
    func documentsOutsideTheFastPathGoToJSONDecoder(_ text: String) throws {
        let bytes = Array(text.utf8)
        #expect(DirectoryJSONParser.parse(bytes) == nil)
        let id = ObjectID(contentID: ContentID(prefix: UInt8(ascii: "k"), hash: Array(repeating: 7, count: 16)))
        let slow = try? Self.reference(bytes)
        do {
            let parsed = try Directory.parse(bytes, objectID: id)
            #expect(parsed.entries == slow?.entries ?? [])
        } catch {
            #expect(error.code == .invalidDirectory)
        }
    }
}
