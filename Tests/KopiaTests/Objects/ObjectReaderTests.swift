import Kopia
import KopiaTestSupport
import Testing

struct ObjectReaderTests {
    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    static func list(_ entries: [(Int64, Int64, String)]) -> [UInt8] {
        let items = entries.map { s, l, o in
            (s == 0 ? "" : "\"s\":\(s),") + (l == 0 ? "" : "\"l\":\(l),") + "\"o\":\"\(o)\""
        }
        return Array("{\"stream\":\"kopia:indirect\",\"entries\":[{\(items.joined(separator: "},{"))}]}".utf8)
    }

    /// A three-chunk indirect object and the bytes it stands for.
    static func threeChunks() -> (InMemoryContents, ObjectID, [UInt8]) {
        var contents = InMemoryContents()
        let parts = [bytes(1000, seed: 1), bytes(10, seed: 2), bytes(4096, seed: 3)]
        var entries: [(Int64, Int64, String)] = []
        var offset: Int64 = 0
        for p in parts {
            entries.append((offset, Int64(p.count), contents.add(p).description))
            offset += Int64(p.count)
        }
        let listID = contents.add(list(entries), prefix: UInt8(ascii: "x"))
        return (contents, ObjectID(contentID: listID, indirection: 1), parts.flatMap { $0 })
    }

    @Test func directObjectReadsItsContentWithLengthKnown() async throws {
        var contents = InMemoryContents()
        let data = Self.bytes(777, seed: 9)
        let id = ObjectID(contentID: contents.add(data))
        var reader = try await ObjectStore(contents: contents).open(id)
        #expect(reader.length == 777)
        #expect(reader.chunks.count == 1)
        #expect(try await reader.readAll() == data)
    }

    @Test func indirectObjectStreamsItsChunksInOrder() async throws {
        let (contents, id, expected) = Self.threeChunks()
        let reader = try await ObjectStore(contents: contents).open(id)
        #expect(reader.length == Int64(expected.count))
        #expect(reader.chunks.map(\.start) == [0, 1000, 1010])
        var collected: [UInt8] = []
        for try await chunk in reader.chunkSequence() { collected += chunk }
        #expect(collected == expected)
    }

    @Test func seekAndPartialReadsReturnTheRightBytes() async throws {
        let (contents, id, expected) = Self.threeChunks()
        var reader = try await ObjectStore(contents: contents).open(id)
        try reader.seek(to: 995)
        let first = try await reader.read(maxLength: 100)
        #expect(first == Array(expected[995..<1000]))
        let second = try await reader.read(maxLength: 3)
        #expect(second == Array(expected[1000..<1003]))
        try reader.seek(to: 2000)
        #expect(try await reader.readAll() == Array(expected[2000...]))
        #expect(try await reader.read(maxLength: 10).isEmpty)
    }

    @Test func nestedIndirectionIsFlattened() async throws {
        var (contents, inner, expected) = Self.threeChunks()
        // The outer list (read through one more level) holds the inner list's bytes in two pieces.
        let innerList = try await contents.content(inner.contentID)
        let a = contents.add(Array(innerList[..<20]), prefix: UInt8(ascii: "x"))
        let b = contents.add(Array(innerList[20...]), prefix: UInt8(ascii: "x"))
        let outer = contents.add(Self.list([(0, 20, a.description), (20, Int64(innerList.count - 20), b.description)]),
                                 prefix: UInt8(ascii: "x"))
        let id = try ObjectID(parsing: "II" + outer.description)
        var reader = try await ObjectStore(contents: contents).open(id)
        #expect(reader.length == Int64(expected.count))
        #expect(try await reader.readAll() == expected)
    }

    @Test func compressedObjectWithNoneHeaderDecodes() async throws {
        var contents = InMemoryContents()
        let data = Self.bytes(50, seed: 4)
        let cid = contents.add([0, 0, 0, 0] + data)
        var reader = try await ObjectStore(contents: contents).open(ObjectID(contentID: cid, isCompressed: true))
        #expect(try await reader.readAll() == data)
    }

    @Test func chunkShorterThanItsEntryIsCorrupt() async throws {
        var contents = InMemoryContents()
        let c = contents.add(Self.bytes(100, seed: 1))
        let listID = contents.add(Self.list([(0, 101, c.description)]), prefix: UInt8(ascii: "x"))
        var reader = try await ObjectStore(contents: contents).open(ObjectID(contentID: listID, indirection: 1))
        await #expect {
            _ = try await reader.readAll()
        } throws: { ($0 as? KopiaError)?.code == .corruptContent && ($0 as? KopiaError)?.contentID == c.description }
    }

    @Test(arguments: [
        "{\"stream\":\"kopia:indirect\",\"entries\":[{\"s\":5,\"l\":10,\"o\":\"d9295958410ae3b73f68033274cd7a8f\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[]}",
        "{\"stream\":\"kopia:indirect\",\"entries\":[{\"l\":10,\"o\":\"not an id\"}]}",
        "not json",
    ])
    func badChunkListsAreCorruptWithTheObjectNamed(_ text: String) async throws {
        var contents = InMemoryContents()
        let listID = contents.add(Array(text.utf8), prefix: UInt8(ascii: "x"))
        let id = ObjectID(contentID: listID, indirection: 1)
        await #expect {
            _ = try await ObjectStore(contents: contents).open(id)
        } throws: { ($0 as? KopiaError)?.code == .corruptContent && ($0 as? KopiaError)?.objectID == id.description }
    }

    @Test func missingContentIsReportedWithObjectAndContent() async throws {
        var (contents, id, _) = Self.threeChunks()
        let reader = try await ObjectStore(contents: contents).open(id)
        contents.remove(reader.chunks[1].contentID)
        let damaged = try await ObjectStore(contents: contents).open(id)
        await #expect {
            _ = try await damaged.readChunk(at: 1)
        } throws: { error in
            guard let e = error as? KopiaError else { return false }
            return e.code == .contentNotFound && e.objectID == id.description
                && e.contentID == reader.chunks[1].contentID.description
        }
    }
}
