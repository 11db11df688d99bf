import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// The safety cases of issue 5, each restored from a repository that really contains the hostile entries
/// (written with the write path's low-level session, which writes names and orders exactly as given).
struct RestoreSafetyTests {
    typealias S = RestoreTestSupport

    /// A scratch area: `<base>/target` is restored into, `<base>/outside` must never change.
    struct Scratch {
        let base: String
        var target: String { base + "/target" }
        var outside: String { base + "/outside" }

        init() throws {
            base = try S.tempDir("safety")
            try FileManager.default.createDirectory(atPath: base + "/outside", withIntermediateDirectories: true)
            try S.write(base + "/outside/passwd", "original\n")
        }

        /// Fails the test if anything outside the target changed.
        func expectOutsideUntouched(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let outsideEntries = try FileManager.default.contentsOfDirectory(atPath: outside)
            #expect(outsideEntries == ["passwd"], sourceLocation: sourceLocation)
            #expect(S.read(outside + "/passwd") == Array("original\n".utf8), sourceLocation: sourceLocation)
            let baseEntries = Set(try FileManager.default.contentsOfDirectory(atPath: base))
            #expect(baseEntries.isSubset(of: ["target", "outside"]), "\(baseEntries)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ["a/b", "x\u{0}y", ".", "..", "../escape", "", "../outside/passwd"])
    func entryWithAnUnsafeNameIsRefused(_ name: String) async throws {
        let scratch = try Scratch()
        defer { S.remove(scratch.base) }
        let repo = try await S.makeRepository { s in
            let hostile = try await S.file(s, name, Array("evil\n".utf8))
            let sub = try await S.directory(s, "sub", [hostile, try await S.file(s, "fine.txt", Array("fine".utf8))])
            return [sub, try await S.file(s, "ok.txt", Array("ok\n".utf8))]
        }
        let result = try await S.restore(repo, into: scratch.target)
        #expect(!result.succeeded)
        let failure = try #require(result.failures.first)
        #expect(failure.path == "sub")
        #expect([.invalidDirectory, .unsafePath].contains(failure.error.code))
        #expect(S.read(scratch.target + "/ok.txt") == Array("ok\n".utf8))
        let tree = try S.describe(scratch.target)
        #expect(Set(tree.keys) == ["ok.txt", "sub"], "\(tree.keys.sorted())")
        try scratch.expectOutsideUntouched()
    }

    @Test func symlinkIntoOutsideFollowedByADirectoryOfTheSameNameIsNeverFollowed() async throws {
        let scratch = try Scratch()
        defer { S.remove(scratch.base) }
        let repo = try await S.makeRepository { s in
            let link = try await S.symlink(s, "a", to: scratch.outside)
            let dir = try await S.directory(s, "a", [try await S.file(s, "passwd", Array("evil\n".utf8))])
            return [link, dir]
        }
        let result = try await S.restore(repo, into: scratch.target)
        #expect(result.failures.contains { $0.path == "a" && $0.error.code == .unsafePath })
        try scratch.expectOutsideUntouched()
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: scratch.target + "/a") == scratch.outside)
    }

    @Test func symlinkIntoOutsideFollowedByAFileNamedThroughItIsNeverFollowed() async throws {
        let scratch = try Scratch()
        defer { S.remove(scratch.base) }
        let repo = try await S.makeRepository { s in
            [try await S.symlink(s, "a", to: scratch.outside),
             try await S.file(s, "a/passwd", Array("evil\n".utf8))]
        }
        let result = try await S.restore(repo, into: scratch.target)
        #expect(!result.succeeded)
        try scratch.expectOutsideUntouched()
    }

    @Test func symlinkAlreadyInTheTargetWhereTheSnapshotHasADirectoryIsNeverFollowed() async throws {
        let scratch = try Scratch()
        defer { S.remove(scratch.base) }
        try FileManager.default.createDirectory(atPath: scratch.target, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.target + "/a", withDestinationPath: scratch.outside)
        try FileManager.default.createSymbolicLink(atPath: scratch.target + "/f.txt",
                                                   withDestinationPath: scratch.outside + "/passwd")
        let repo = try await S.makeRepository { s in
            [try await S.directory(s, "a", [try await S.file(s, "passwd", Array("evil\n".utf8))]),
             try await S.file(s, "f.txt", Array("replaced\n".utf8))]
        }
        let result = try await S.restore(repo, into: scratch.target)
        // The directory fails as a whole; nothing below it is read or written.
        #expect(result.failures.map(\.path) == ["a"])
        #expect(result.failures.first?.error.code == .unsafePath)
        try scratch.expectOutsideUntouched()
        // The symlink where a file belongs is replaced by the file, not written through.
        let st = try #require(S.lstatOf(scratch.target + "/f.txt"))
        #expect(st.st_mode & S_IFMT == S_IFREG)
        #expect(S.read(scratch.target + "/f.txt") == Array("replaced\n".utf8))
    }

    @Test func foreignFilesInTheTargetAreLeftAsTheyWere() async throws {
        let scratch = try Scratch()
        defer { S.remove(scratch.base) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch.target + "/dir", withIntermediateDirectories: true)
        try S.write(scratch.target + "/foreign.txt", "mine\n")
        try S.write(scratch.target + "/dir/foreign2.txt", "mine too\n")
        try S.write(scratch.target + "/file.txt", "old contents that are longer\n")
        let repo = try await S.makeRepository { s in
            [try await S.directory(s, "dir", [try await S.file(s, "x.txt", Array("x".utf8))]),
             try await S.file(s, "file.txt", Array("new\n".utf8))]
        }
        let result = try await S.restore(repo, into: scratch.target)
        #expect(result.succeeded, "\(result.failures)")
        #expect(S.read(scratch.target + "/foreign.txt") == Array("mine\n".utf8))
        #expect(S.read(scratch.target + "/dir/foreign2.txt") == Array("mine too\n".utf8))
        #expect(S.read(scratch.target + "/file.txt") == Array("new\n".utf8))
        #expect(S.read(scratch.target + "/dir/x.txt") == Array("x".utf8))
        #expect(try S.describe(scratch.target).count == 5)
    }

    @Test func skipExistingFinishesAnInterruptedRestoreWithoutRewritingCompletedFiles() async throws {
        let scratch = try Scratch()
        defer { S.remove(scratch.base) }
        let repo = try await S.makeRepository { s in
            [try await S.file(s, "a.txt", Array("alpha\n".utf8)),
             try await S.file(s, "b.txt", Array("bravo\n".utf8)),
             try await S.symlink(s, "c", to: "a.txt")]
        }
        #expect(try await S.restore(repo, into: scratch.target).succeeded)
        // "Interrupt": b.txt never got its real name, its partial temporary file is still there.
        S.remove(scratch.target + "/b.txt")
        try S.write(scratch.target + "/.ferry-partial-f1", "bra")
        // a.txt was completed: change its bytes but keep size and mtime, so a rewrite would be visible.
        let a = scratch.target + "/a.txt"
        try S.write(a, "ALPHA\n")
        let times = MetadataApplier.timespecs(S.time)
        #expect(utimensat(AT_FDCWD, a, times, 0) == 0)

        let again = try await S.restore(repo, into: scratch.target, options: RestoreOptions(skipExisting: true))
        #expect(again.succeeded, "\(again.failures)")
        #expect(again.files == 1)
        #expect(again.skipped == 2)
        #expect(S.read(a) == Array("ALPHA\n".utf8))
        #expect(S.read(scratch.target + "/b.txt") == Array("bravo\n".utf8))
        #expect(try S.describe(scratch.target).keys.sorted() == ["a.txt", "b.txt", "c"])
    }
}
