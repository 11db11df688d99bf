import Kopia
import KopiaTestSupport
import Logging
import Testing

struct ManifestStoreTests {
    static let logger = Logger(label: "test")

    @Test func latestModificationWinsAndTombstonesRemoveEntries() async throws {
        var contents = InMemoryContents()
        let m = UInt8(ascii: "m")
        contents.add(try ManifestBuilder.content([
            ManifestBuilder.entry(id: "aa", labels: ["type": "policy"], modified: "2026-01-01T00:00:00Z", data: "{\"v\":1}"),
            ManifestBuilder.entry(id: "bb", labels: ["type": "snapshot"], modified: "2026-01-01T00:00:01Z", data: "{}"),
        ]), prefix: m)
        contents.add(try ManifestBuilder.content([
            ManifestBuilder.entry(id: "aa", labels: ["type": "policy"], modified: "2026-01-01T00:00:00.000000001Z",
                                  data: "{\"v\":2}"),
            ManifestBuilder.entry(id: "bb", labels: [:], modified: "2026-01-02T00:00:00Z", deleted: true),
        ]), prefix: m)
        // An older version of "aa" written later in content order must not win.
        contents.add(try ManifestBuilder.content([
            ManifestBuilder.entry(id: "aa", labels: ["type": "policy"], modified: "2025-12-31T23:59:59+01:00",
                                  data: "{\"v\":0}"),
        ]), prefix: m)
        let store = try await ManifestStore.load(from: contents, logger: Self.logger)
        #expect(store.contentCount == 3)
        #expect(store.entries.map(\.id) == ["aa"])
        #expect(store.entry(id: "aa")?.data == .object(["v": .integer(2)]))
        #expect(store.entry(id: "bb") == nil)
        #expect(store.find(labels: ["type": "policy"]).count == 1)
        #expect(store.find(labels: ["type": "snapshot"]).isEmpty)
    }

    @Test func onlyManifestPrefixedContentsAreRead() async throws {
        var contents = InMemoryContents()
        contents.add(Array("not a manifest".utf8), prefix: UInt8(ascii: "k"))
        contents.add(Array("not a manifest".utf8))
        let store = try await ManifestStore.load(from: contents, logger: Self.logger)
        #expect(store.entries.isEmpty)
        #expect(store.contentCount == 0)
    }

    @Test(arguments: [
        Array("{\"entries\":[]}".utf8),  // not gzip'd
        ManifestBuilder.gzip(Array("{\"entries\":[{\"id\":\"a\"}]}".utf8)),  // no modified
        ManifestBuilder.gzip(Array("{\"entries\":[{\"id\":\"a\",\"modified\":\"yesterday\"}]}".utf8)),
        ManifestBuilder.gzip(Array("[1,2".utf8)),
    ])
    func undecodableManifestContentIsNamed(_ plaintext: [UInt8]) async throws {
        var contents = InMemoryContents()
        let id = contents.add(plaintext, prefix: UInt8(ascii: "m"))
        await #expect {
            _ = try await ManifestStore.load(from: contents, logger: Self.logger)
        } throws: { ($0 as? KopiaError)?.code == .invalidManifest && ($0 as? KopiaError)?.contentID == id.description }
    }
}
