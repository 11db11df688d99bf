import Foundation
import KopiaTestSupport
import Testing

/// `ferry ls -l` run as a subprocess: every entry of every fixture snapshot with its recorded mode, size and
/// symlink target.
struct LsCLITests {
    struct SnapshotCase: Sendable, CustomStringConvertible {
        let fixture: String
        let index: Int
        var description: String { "\(fixture) #\(index + 1)" }
    }

    static var cases: [SnapshotCase] {
        Fixtures.all.flatMap { fixture in
            ((try? FixtureManifest.load(fixture).snapshots.count) ?? 0).asRange.map { SnapshotCase(fixture: fixture, index: $0) }
        }
    }

    /// Parses `TYPEPERMS  UID:GID  SIZE  MTIME  NAME[/] [-> TARGET]`.
    static func parse(_ line: String) -> (type: Character, mode: UInt32, size: Int64, path: String, target: String?)? {
        var rest = Substring(line)
        func field() -> Substring {
            rest = rest.drop(while: { $0 == " " })
            let f = rest.prefix(while: { $0 != " " })
            rest = rest.dropFirst(f.count)
            return f
        }
        let perms = field()
        _ = field()
        guard let size = Int64(field()) else { return nil }
        _ = field()
        var name = String(rest.dropFirst(2))
        var target: String?
        if let arrow = name.range(of: " -> ") {
            target = String(name[arrow.upperBound...])
            name = String(name[..<arrow.lowerBound])
        }
        if name.hasSuffix("/") { name.removeLast() }
        guard let type = perms.first, perms.count == 10 else { return nil }
        var mode: UInt32 = 0
        let chars = Array(perms.dropFirst())
        for (i, c) in chars.enumerated() {
            let bit = UInt32(1) << UInt32(8 - i)
            switch c {
            case "r", "w", "x": mode |= bit
            case "s": mode |= bit | (i == 2 ? 0o4000 : 0o2000)
            case "S": mode |= i == 2 ? 0o4000 : 0o2000
            case "t": mode |= bit | 0o1000
            case "T": mode |= 0o1000
            default: break
            }
        }
        let letter: Character = switch type { case "-": "f"; case "d": "d"; case "l": "l"; default: "?" }
        return (letter, mode, size, name, target)
    }

    @Test(arguments: cases)
    func longRecursiveListingShowsEveryRecordedEntry(_ c: SnapshotCase) throws {
        let want = try FixtureManifest.load(c.fixture).snapshots[c.index]
        let result = try FerryProcess.run(["ls", "-l", "-r", "--snapshot", want.id],
                                          environment: FerryProcess.fixtureEnvironment(c.fixture))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        var got: [String: (type: Character, mode: UInt32, size: Int64, path: String, target: String?)] = [:]
        for line in lines {
            let parsed = try #require(Self.parse(line), "unparseable line: \(line)")
            got[parsed.path] = parsed
        }
        #expect(Set(got.keys) == Set(want.entries.map(\.path)))
        for e in want.entries {
            guard let g = got[e.path] else { continue }
            #expect(g.type == e.type, "\(e.path)")
            #expect(g.mode == e.mode, "\(e.path): \(String(g.mode, radix: 8)) vs \(String(e.mode, radix: 8))")
            if e.type != "d", let size = e.size { #expect(g.size == size, "\(e.path)") }
            #expect(g.target == e.target, "\(e.path)")
        }
    }

    @Test func pathArgumentListsOneDirectoryOrOneEntry() throws {
        let env = FerryProcess.fixtureEnvironment("fs-default")
        let dir = try FerryProcess.run(["ls", "docs/notes/2024"], environment: env)
        #expect(dir.status == 0, "\(dir.stderr)")
        #expect(dir.stdout.split(separator: "\n") == ["deep/", "february.txt", "jan.txt", "mar.txt"])
        let file = try FerryProcess.run(["ls", "-l", "--previous", "2", "link-to-readme"], environment: env)
        #expect(file.status == 0, "\(file.stderr)")
        #expect(file.stdout.hasSuffix("link-to-readme -> README.txt\n"))
    }

    @Test func missingPathIsNamedWithTheNotFoundCode() throws {
        let result = try FerryProcess.run(["ls", "docs/missing"], environment: FerryProcess.fixtureEnvironment("fs-default"))
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("ferry: error: ") && result.stderr.contains("docs/missing"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func jsonListingCarriesModeSizeTimeAndTarget() throws {
        let result = try FerryProcess.run(["ls", "--json", "--identity", "webapp-backup-staging@staging:/data"],
                                          environment: FerryProcess.fixtureEnvironment("fs-identities"))
        #expect(result.status == 0, "\(result.stderr)")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let link = try #require(items.first { $0["name"] as? String == "current-config" })
        #expect(link["type"] as? String == "symlink")
        #expect(link["mode"] as? String == "0777")
        #expect(link["symlinkTarget"] as? String == "static/site.css")
        #expect((link["mtime"] as? String)?.hasPrefix("2026-11-") == true)
    }
}

extension Int {
    fileprivate var asRange: Range<Int> { 0..<Swift.max(0, self) }
}
