import Foundation
@testable import Kopia
import KopiaTestSupport
import Logging

/// Helpers for the restore tests: temporary directories, fixture and hand-built (hostile) repositories, and a
/// description of what a restored tree holds.
enum RestoreTestSupport {
    static let logger = Logger(label: "test.restore")

    static func tempDir(_ tag: String) throws -> String {
        let path = NSTemporaryDirectory() + "ferry-restore-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func openFixture(_ name: String) async throws -> KopiaRepository {
        try await KopiaRepository.open(storage: try FilesystemStorage(root: Fixtures.kopia(name).path),
                                       password: Fixtures.password, logger: logger)
    }

    /// What one path of a restored tree is.
    struct Node: Equatable, CustomStringConvertible {
        var type: Character
        var mode: UInt32
        var size: Int64
        var sha256: String?
        var target: String?
        var description: String { "\(type) \(String(mode, radix: 8)) \(size) \(sha256 ?? target ?? "")" }
    }

    /// Every path under `root` (relative, no leading `./`), without following symlinks.
    static func describe(_ root: String) throws -> [String: Node] {
        var out: [String: Node] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return out }
        while let rel = e.nextObject() as? String {
            let p = root + "/" + rel
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            let mode = UInt32(st.st_mode) & 0o7777
            switch st.st_mode & S_IFMT {
            case S_IFDIR: out[rel] = Node(type: "d", mode: mode, size: 0)
            case S_IFLNK:
                out[rel] = Node(type: "l", mode: mode, size: Int64(st.st_size),
                                target: try fm.destinationOfSymbolicLink(atPath: p))
            default:
                let bytes = [UInt8](fm.contents(atPath: p) ?? Data())
                out[rel] = Node(type: "f", mode: mode, size: Int64(st.st_size),
                                sha256: Hex.encode(S3Digest.sha256(bytes)))
            }
        }
        return out
    }

    static func lstatOf(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    static func write(_ path: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
