import Foundation
@testable import Kopia
import KopiaTestSupport
import Logging

/// Hand-built repositories for the safety tests, written with the write path's low-level session (which writes
/// names and orders exactly as given, hostile ones included).
extension RestoreTestSupport {
    static let password = "restore-test-password"

    static func open(_ path: String) async throws -> KopiaRepository {
        try await KopiaRepository.open(storage: try FilesystemStorage(root: path), password: password, logger: logger)
    }

    static let time = KopiaTime(seconds: 1_700_000_000, nanoseconds: 123_456_789)

    /// A repository written with the write path's low-level session: `build` writes objects and returns the
    /// root directory's entries exactly as given (hostile names included). Returns the repository path.
    static func makeRepository(_ build: (WriteSession) async throws -> [DirectoryEntry]) async throws -> String {
        let path = try tempDir("repo")
        _ = try await RepositoryCreator.createFilesystem(at: path, password: password)
        let writer = try await RepositoryWriter.open(storage: try FilesystemStorage(root: path), password: password,
                                                     logger: logger)
        let session = try writer.session()
        let entries = try await build(session)
        let rootID = try await session.writeDirectory(entries)
        let root = DirectoryEntry(name: "data", type: .directory, permissions: FilePermissions(rawValue: 0o755),
                                  modified: time, objectID: rootID, summary: WriteSession.summarize(entries))
        _ = try await session.commitSnapshot(root: root, source: SnapshotSource(userName: "u", host: "h", path: "/data"))
        return path
    }

    static func file(_ session: WriteSession, _ name: String, _ bytes: [UInt8], mode: UInt32 = 0o644,
                     modified: KopiaTime = time, uid: UInt32 = 0, gid: UInt32 = 0) async throws -> DirectoryEntry {
        DirectoryEntry(name: name, type: .file, permissions: FilePermissions(rawValue: mode), size: Int64(bytes.count),
                       modified: modified, uid: uid, gid: gid, objectID: try await session.writeObject(bytes))
    }

    static func symlink(_ session: WriteSession, _ name: String, to target: String) async throws -> DirectoryEntry {
        DirectoryEntry(name: name, type: .symlink, permissions: FilePermissions(rawValue: 0o777),
                       size: Int64(target.utf8.count), modified: time,
                       objectID: try await session.writeObject(Array(target.utf8)))
    }

    static func directory(_ session: WriteSession, _ name: String, _ entries: [DirectoryEntry], mode: UInt32 = 0o755)
        async throws -> DirectoryEntry
    {
        DirectoryEntry(name: name, type: .directory, permissions: FilePermissions(rawValue: mode), modified: time,
                       objectID: try await session.writeDirectory(entries), summary: WriteSession.summarize(entries))
    }

    /// Restores the repository's only snapshot.
    static func restore(_ repoPath: String, into target: String, options: RestoreOptions = RestoreOptions())
        async throws -> RestoreResult
    {
        let repo = try await open(repoPath)
        let snapshot = try repo.select(SnapshotSelection(target: .only))
        return try await SnapshotRestorer(repository: repo, options: options, logger: logger)
            .restore(snapshot.rootEntry, into: target)
    }

}
