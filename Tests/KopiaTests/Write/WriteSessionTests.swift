import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// The hand-building API the restore suites use for hostile repositories: entries are written exactly as given.
struct WriteSessionTests {
    @Test func hostileEntriesAreWrittenAsGivenAndPublishedAsASnapshot() async throws {
        let dir = try WriteTestSupport.tempDir("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let writer = try await RepositoryWriter.open(storage: try FilesystemStorage(root: dir + "/repo"), password: "pw",
                                                     logger: WriteTestSupport.logger)
        let session = try writer.session()
        let t = KopiaTime(seconds: 1_700_000_000, nanoseconds: 123_456_789)
        let payload = try await session.writeObject(Array("pwned\n".utf8))
        let target = try await session.writeObject(Array("/etc".utf8))
        let perm = FilePermissions(rawValue: 0o644)
        let entries = [
            DirectoryEntry(name: "a", type: .symlink, permissions: FilePermissions(rawValue: 0o777), size: 4, modified: t, objectID: target),
            DirectoryEntry(name: "a/passwd", type: .file, permissions: perm, size: 6, modified: t, objectID: payload),
            DirectoryEntry(name: "..", type: .file, permissions: perm, size: 6, modified: t, objectID: payload),
            DirectoryEntry(name: "../escape", type: .file, permissions: perm, size: 6, modified: t, objectID: payload),
            DirectoryEntry(name: "a", type: .file, permissions: perm, size: 6, modified: t, objectID: payload),
        ]
        let dirID = try await session.writeDirectory(entries)
        let root = DirectoryEntry(name: "data", type: .directory, permissions: FilePermissions(rawValue: 0o755), modified: t,
                                  objectID: dirID, summary: WriteSession.summarize(entries, ownModified: t))
        let id = try await session.commitSnapshot(root: root, source: SnapshotSource(userName: "evil", host: "h", path: "/data"),
                                                  description: "hostile")

        let reader = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        let snap = try SnapshotManifest(entry: try #require(reader.manifests.entry(id: id)))
        #expect(snap.rootEntry.objectID == dirID)
        #expect(snap.description == "hostile")
        let raw = try await reader.objects.read(dirID)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any])
        let names = try #require(doc["entries"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(names == ["a", "a/passwd", "..", "../escape", "a"])
        #expect(try await reader.objects.read(payload) == Array("pwned\n".utf8))
    }
}
