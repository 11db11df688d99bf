import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// A repository written by Ferry is compared, field by field, with what Kopia 0.12.1 wrote in
/// `../shared/fixtures/kopia` — and Ferry's splitter and object writer must reproduce Kopia's object IDs for
/// the fixture's multi-chunk files (so data deduplicates with Kopia-written snapshots).
@Suite(.serialized)
struct WriterFixtureComparisonTests {
    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func blobKinds(_ ids: [String]) -> Set<String> {
        Set(ids.map { id in
            if id.hasPrefix("kopia.") { return id }
            if id.hasPrefix("xn") { return String(id.prefix { $0 != "_" }) + "_" }
            if id.hasPrefix("_log_") { return "_log_" }
            return String(id.prefix(1))
        })
    }

    /// A Ferry repository with one snapshot of a small tree resembling the fixture's.
    static func ferryRepository() async throws -> (String, SnapshotUploadResult) {
        let dir = try WriteTestSupport.tempDir("cmp")
        let tree = dir + "/data"
        let fm = FileManager.default
        try fm.createDirectory(atPath: tree + "/docs/notes", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: tree + "/empty-dir", withIntermediateDirectories: true)
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: tree + "/README.txt"))
        try Data().write(to: URL(fileURLWithPath: tree + "/empty-file"))
        try Data(repeating: 7, count: 300_000).write(to: URL(fileURLWithPath: tree + "/docs/guide.md"))
        try Data("n".utf8).write(to: URL(fileURLWithPath: tree + "/docs/notes/jan.txt"))
        try fm.createSymbolicLink(atPath: tree + "/link-to-readme", withDestinationPath: "README.txt")
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: Fixtures.password)
        let writer = try await RepositoryWriter.open(storage: try FilesystemStorage(root: dir + "/repo"),
                                                     password: Fixtures.password, logger: WriteTestSupport.logger)
        let r = try await writer.snapshot(path: tree, source: SnapshotSource(userName: "webapp-backup-production",
                                                                             host: "production", path: "/data"),
                                          options: SnapshotUploadOptions(description: "ferry tree"))
        return (dir + "/repo", r)
    }

    @Test func ferryRepositoryMatchesKopiasLayoutFieldByField() async throws {
        let (ferryPath, result) = try await Self.ferryRepository()
        defer { try? FileManager.default.removeItem(atPath: (ferryPath as NSString).deletingLastPathComponent) }
        let fixturePath = Fixtures.kopia("fs-default").path
        let ferry = try FilesystemStorage(root: ferryPath)
        let kopia = try FilesystemStorage(root: fixturePath)

        // .shards byte for byte; blob kinds a subset of Kopia's (Ferry writes no logs or maintenance schedule).
        #expect(FileManager.default.contents(atPath: ferryPath + "/.shards") == FileManager.default.contents(atPath: fixturePath + "/.shards"))
        let ferryKinds = Self.blobKinds(try await ferry.list(prefix: "").map(\.id))
        let kopiaKinds = Self.blobKinds(try await kopia.list(prefix: "").map(\.id))
        #expect(ferryKinds == ["kopia.repository", "kopia.blobcfg", "p", "q", "xn0_"])
        #expect(ferryKinds.isSubset(of: kopiaKinds))

        // Format blob: same keys, same KDF and envelope; parameters: same keys and values except the secrets.
        let fb = try Self.json(try await ferry.read("kopia.repository"))
        let kb = try Self.json(try await kopia.read("kopia.repository"))
        #expect(Set(fb.keys) == Set(kb.keys))
        #expect(fb["keyAlgo"] as? String == kb["keyAlgo"] as? String)
        #expect(fb["encryption"] as? String == kb["encryption"] as? String)
        let fFormat = try await RepositoryFormat.open(storage: ferry, password: Fixtures.password)
        let kFormat = try await RepositoryFormat.open(storage: kopia, password: Fixtures.password)
        func plain(_ f: RepositoryFormat) throws -> [String: Any] {
            let keys = try FormatKeys(password: Fixtures.password, uniqueID: f.uniqueID, keyAlgorithm: f.formatBlob.keyAlgorithm)
            let p = try #require(keys.open(f.formatBlob.encryptedBlockFormat))
            return try #require(try Self.json(p)["format"] as? [String: Any])
        }
        let fp = try plain(fFormat), kp = try plain(kFormat)
        #expect(Set(fp.keys) == Set(kp.keys))
        for key in ["hash", "encryption", "version", "maxPackSize", "indexVersion", "enablePasswordChange", "splitter"] {
            #expect("\(fp[key] ?? "-")" == "\(kp[key] ?? "-")", "parameter \(key)")
        }
        #expect(NSDictionary(dictionary: try #require(fp["epochParameters"] as? [String: Any]))
            == NSDictionary(dictionary: try #require(kp["epochParameters"] as? [String: Any])))
        #expect((try await ferry.read("kopia.blobcfg")).count == 30)
        #expect(fFormat.blobConfig == kFormat.blobConfig)

        // Index blobs: Kopia's naming, index v2 with the same header and format table values, no random tail.
        let name = try Regex(#"^xn0_[0-9a-f]{32}-s[0-9a-f]{16}[0-9a-f]{3}-c1$"#)
        for blob in try await ferry.list(prefix: "xn") {
            #expect(blob.id.wholeMatch(of: name) != nil, "index blob name \(blob.id)")
            let plainIndex = try fFormat.decryptBlob(try await ferry.read(blob.id), blobID: blob.id)
            let index = try WriteTestSupport.entries(ofIndex: plainIndex)
            #expect(plainIndex[0] == 2 && plainIndex[1] == 17)
            for e in index {
                #expect(e.formatVersion == 3 && e.encryptionKeyID == 0)
                #expect([0, 0x1101].contains(e.compressionHeaderID))
                #expect(e.packOffset >= 32)
                #expect(e.packBlobID.hasPrefix(e.contentID.hasPrefix ? "q" : "p"))
                #expect(e.packBlobID.hasSuffix(String(blob.id.split(separator: "-")[1])))
            }
        }
        // Pack blobs: first content at 32, local index at a 4 KiB boundary, valid postamble.
        for blob in try await ferry.list(prefix: "p") + (try await ferry.list(prefix: "q")) {
            let bytes = try await ferry.read(blob.id)
            let post = Int(try #require(bytes.last))
            let payload = Array(bytes[(bytes.count - 1 - post)..<(bytes.count - 1)])
            var r = ByteReader(payload, what: "postamble")
            #expect(try r.readUVarint() == 1)
            let ivLength = Int(try r.readUVarint())
            let iv = try r.readBytes(ivLength)
            let offset = Int(try r.readUVarint())
            let length = Int(try r.readUVarint())
            #expect(offset % 4096 == 0 && offset + length == bytes.count - 1 - post)
            #expect(try r.readUInt32BE() == CRC32.ieee(Array(payload[0..<(payload.count - 4)])))
            let local = try fFormat.cipher.decrypt(bytes[offset..<(offset + length)], iv: iv)
            #expect(fFormat.hasher.hash(local) == iv)
            #expect(try WriteTestSupport.entries(ofIndex: local).allSatisfy { $0.packBlobID == blob.id })
        }

        // Snapshot manifest: Kopia's labels and data fields.
        let fReader = try await WriteTestSupport.read(ferryPath, password: Fixtures.password)
        let kReader = try await WriteTestSupport.read(fixturePath, password: Fixtures.password)
        let fSnap = try #require(fReader.manifests.entry(id: result.manifestID))
        let kSnap = try #require(kReader.manifests.find(labels: ["type": "snapshot"]).first)
        #expect(Set(fSnap.labels.keys) == Set(kSnap.labels.keys))
        func dataKeys(_ e: ManifestEntry) throws -> [String: Any] {
            try Self.json(Array(try JSONEncoder().encode(e.data)))
        }
        let fData = try dataKeys(fSnap), kData = try dataKeys(kSnap)
        #expect(Set(fData.keys) == Set(kData.keys))
        for key in ["source", "stats", "rootEntry"] {
            #expect(Set(try #require(fData[key] as? [String: Any]).keys) == Set(try #require(kData[key] as? [String: Any]).keys), "\(key)")
        }

        // Directory objects: per entry type, the same JSON fields as Kopia's.
        func fieldsByType(_ reader: WriteTestSupport.Reader, root: ObjectID) async throws -> [String: Set<String>] {
            var out: [String: Set<String>] = [:]
            var queue = [root]
            while let id = queue.popLast() {
                let doc = try Self.json(try await reader.objects.read(id))
                #expect(Set(doc.keys) == ["stream", "entries", "summary"])
                out["summary", default: []].formUnion(try #require(doc["summary"] as? [String: Any]).keys)
                for e in (doc["entries"] as? [[String: Any]]) ?? [] {
                    let type = try #require(e["type"] as? String)
                    let sized = (e["size"] != nil) || type == "d" ? type : type + "(empty)"
                    out[sized, default: []].formUnion(e.keys)
                    if type == "d", let obj = e["obj"] as? String { queue.append(try ObjectID(parsing: obj)) }
                }
            }
            return out
        }
        let fFields = try await fieldsByType(fReader, root: result.rootObjectID)
        let kRoot = try SnapshotManifest(entry: kSnap).rootEntry.objectID
        let kFields = try await fieldsByType(kReader, root: kRoot)
        for (type, fields) in fFields { #expect(fields == kFields[type], "fields of \(type) entries") }
    }

    /// Re-splitting the fixture's multi-chunk files cuts where Kopia cut, and writing them into (a copy of) that
    /// repository produces Kopia's own object IDs with nothing new stored.
    @Test(arguments: [("big/random-20mib.bin", "none"), ("big/zeros-9mib.bin", "none"), ("zstd/text-12mib.txt", "zstd"),
                      ("s2/big-9mib.log", "s2-default"), ("gzip/big-9mib.txt", "gzip")])
    func multiChunkFilesSplitAndDeduplicateExactlyLikeKopia(_ path: String, _ compression: String) async throws {
        let copy = try Fixtures.temporaryCopy(of: "fs-multichunk")
        defer { try? FileManager.default.removeItem(at: copy) }
        let reader = try await WriteTestSupport.read(copy.path, password: Fixtures.password)
        let snap = try SnapshotManifest(entry: try #require(reader.manifests.find(labels: ["type": "snapshot"]).first))
        var dir = snap.rootEntry
        let parts = path.split(separator: "/").map(String.init)
        for part in parts.dropLast() {
            let d = try Directory.parse(try await reader.objects.read(dir.objectID), objectID: dir.objectID)
            dir = try #require(d.entry(named: part))
        }
        let d = try Directory.parse(try await reader.objects.read(dir.objectID), objectID: dir.objectID)
        let fileName = try #require(parts.last)
        let file = try #require(d.entry(named: fileName))
        #expect(file.objectID.indirection == 1)
        let bytes = try await reader.objects.read(file.objectID)
        let list = try Self.json(try await reader.objects.read(try #require(file.objectID.listObject)))
        let kopiaLengths = try #require(list["entries"] as? [[String: Any]]).map { ($0["l"] as? Int) ?? 0 }
        #expect(Splitter.chunkLengths(of: bytes, algorithm: .default) == kopiaLengths)

        let writer = try await RepositoryWriter.open(storage: try FilesystemStorage(root: copy.path),
                                                     password: Fixtures.password, logger: WriteTestSupport.logger)
        let session = try writer.session()
        let id = try await session.writeObject(bytes, compression: compression == "none" ? nil : try CompressionAlgorithm(name: compression))
        #expect(id == file.objectID)
        #expect(session.contents.stats.written == 0)
    }
}

/// Kopia's own directory objects, parsed by the reader and re-encoded by Ferry's writer, come out byte for
/// byte identical — every field, its order, omissions, mode and time formatting, and the trailing newline.
struct DirectoryEncodingTests {
    @Test(arguments: ["fs-default", "fs-zstd-chacha", "fs-multichunk"])
    func kopiaDirectoryObjectsReencodeByteIdentical(_ fixture: String) async throws {
        let reader = try await WriteTestSupport.read(Fixtures.kopia(fixture).path, password: Fixtures.password)
        var checked = 0
        for entry in reader.manifests.find(labels: ["type": "snapshot"]) {
            var queue = [try SnapshotManifest(entry: entry).rootEntry.objectID]
            while let id = queue.popLast() {
                let raw = try await reader.objects.read(id)
                let dir = try Directory.parse(raw, objectID: id)
                #expect(DirectoryObjectJSON.encode(entries: dir.entries, summary: dir.summary) == raw, "directory \(id)")
                #expect(DirectoryObjectJSON.kopiaOrder(dir.entries) == dir.entries)
                queue += dir.entries.filter(\.isDirectory).map(\.objectID)
                checked += 1
            }
        }
        #expect(checked > 5)
    }
}
