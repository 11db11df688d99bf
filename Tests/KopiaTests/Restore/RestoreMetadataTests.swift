import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Modes (setuid/setgid/sticky), nanosecond mtimes, owners (as root), empty files and directories, holes.
struct RestoreMetadataTests {
    typealias S = RestoreTestSupport

    static let t1 = KopiaTime(seconds: 1_600_000_000, nanoseconds: 1)
    static let t2 = KopiaTime(seconds: 1_650_000_000, nanoseconds: 999_999_999)

    static func repository() async throws -> String {
        try await S.makeRepository { s in
            let inner = try await S.directory(s, "setgid-dir", [
                try await S.file(s, "setuid", Array("#!/bin/sh\n".utf8), mode: 0o4755, modified: t1, uid: 1234, gid: 2345),
                try await S.file(s, "setgid", Array("x".utf8), mode: 0o2711, modified: t2),
            ], mode: 0o2775)
            let sticky = try await S.directory(s, "sticky", [], mode: 0o1777)
            let empty = try await S.directory(s, "empty", [], mode: 0o700)
            return [empty, inner, sticky,
                    try await S.file(s, "empty-file", [], mode: 0o600, modified: t2),
                    try await S.file(s, "private", Array("secret".utf8), mode: 0o400, modified: t1, uid: 1234, gid: 2345),
                    try await S.symlink(s, "link", to: "setgid-dir/setuid")]
        }
    }

    @Test func modesTimesAndEmptyEntriesAreRestoredExactly() async throws {
        let repo = try await Self.repository()
        defer { S.remove(repo) }
        let target = try S.tempDir("meta")
        defer { S.remove(target) }
        let result = try await S.restore(repo, into: target)
        #expect(result.succeeded, "\(result.failures)")
        #expect(result.files == 4 && result.symlinks == 1 && result.directories == 4)

        let tree = try S.describe(target)
        #expect(tree["setgid-dir"]?.mode == 0o2775)
        #expect(tree["sticky"]?.mode == 0o1777)
        #expect(tree["empty"] == S.Node(type: "d", mode: 0o700, size: 0))
        #expect(tree["setgid-dir/setuid"]?.mode == 0o4755)
        #expect(tree["setgid-dir/setgid"]?.mode == 0o2711)
        #expect(tree["private"]?.mode == 0o400)
        #expect(tree["empty-file"]?.size == 0)
        #expect(tree["link"]?.target == "setgid-dir/setuid")
        let setuid = try #require(S.lstatOf(target + "/setgid-dir/setuid"))
        #expect(Int64(setuid.st_mtim.tv_sec) == Self.t1.seconds && setuid.st_mtim.tv_nsec == 1)
        let setgid = try #require(S.lstatOf(target + "/setgid-dir/setgid"))
        #expect(Int64(setgid.st_mtim.tv_sec) == Self.t2.seconds && setgid.st_mtim.tv_nsec == 999_999_999)
        // Directory times are applied after their children were written.
        let dir = try #require(S.lstatOf(target + "/setgid-dir"))
        #expect(Int64(dir.st_mtim.tv_sec) == S.time.seconds && Int(dir.st_mtim.tv_nsec) == Int(S.time.nanoseconds))
        let link = try #require(S.lstatOf(target + "/link"))
        #expect(Int64(link.st_mtim.tv_sec) == S.time.seconds)
        if geteuid() == 0 {
            #expect(setuid.st_uid == 1234 && setuid.st_gid == 2345)
            #expect(try #require(S.lstatOf(target + "/private")).st_uid == 1234)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "ownership is only restored as root"))
    func noOwnerKeepsTheRestoringUser() async throws {
        let repo = try await Self.repository()
        defer { S.remove(repo) }
        let target = try S.tempDir("noowner")
        defer { S.remove(target) }
        let result = try await S.restore(repo, into: target, options: RestoreOptions(restoreOwnership: false))
        #expect(result.succeeded)
        let st = try #require(S.lstatOf(target + "/setgid-dir/setuid"))
        #expect(st.st_uid == 0 && st.st_mode & 0o7777 == 0o4755)
    }

    @Test(arguments: [false, true])
    func zeroRunsBecomeHolesOnlyWithSparse(_ sparse: Bool) async throws {
        var bytes = RestoreDamageTests.noise(1 << 20, seed: 3)
        bytes += [UInt8](repeating: 0, count: 6 << 20)
        bytes += RestoreDamageTests.noise(1 << 20, seed: 4)
        let content = bytes
        let repo = try await S.makeRepository { s in [try await S.file(s, "disk.img", content)] }
        defer { S.remove(repo) }
        let target = try S.tempDir("sparse")
        defer { S.remove(target) }
        let result = try await S.restore(repo, into: target, options: RestoreOptions(sparse: sparse))
        #expect(result.succeeded)
        #expect(S.read(target + "/disk.img") == content)
        let st = try #require(S.lstatOf(target + "/disk.img"))
        let allocated = Int(st.st_blocks) * 512
        if sparse {
            #expect(allocated < 4 << 20, "allocated \(allocated)")
        } else {
            #expect(allocated >= 8 << 20, "allocated \(allocated)")
        }
    }

    @Test func sparseWriterSkipsOnlyWholeZeroBlocks() {
        #expect(SparseWriter.isZero(UnsafeRawBufferPointer(start: nil, count: 0)))
        var block = [UInt8](repeating: 0, count: 100)
        #expect(block.withUnsafeBytes { SparseWriter.isZero($0) })
        block[99] = 1
        #expect(!block.withUnsafeBytes { SparseWriter.isZero($0) })
        block[99] = 0
        block[3] = 7
        #expect(!block.withUnsafeBytes { SparseWriter.isZero($0) })
    }
}
