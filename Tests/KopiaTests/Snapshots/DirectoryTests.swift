import Kopia
import Testing

struct DirectoryTests {
    static let objectID = ObjectID(contentID: ContentID(prefix: UInt8(ascii: "k"), hash: Array(repeating: 1, count: 16)))

    @Test func entriesParseWithEveryField() throws {
        let json = """
            {"stream":"kopia:directory","entries":[
             {"name":"shared","type":"d","mode":"020000775","mtime":"2019-03-04T10:11:12.123456789-07:00",
              "uid":1000,"gid":2000,"obj":"k775264b8fc7e19ceeed7b791c9750a69",
              "summ":{"size":10,"files":1,"symlinks":1,"dirs":1,"maxTime":"2026-11-20T23:52:25Z","numFailed":0}},
             {"name":"tool","type":"f","mode":"040000755","size":31,"mtime":"2026-11-20T23:52:25.5Z",
              "obj":"Ix339ea08198e8c59d1502c1e7fa3d4f74"},
             {"name":"tmp","type":"f","mode":"04000777","mtime":"2026-11-20T23:52:25Z","obj":"d9295958410ae3b73f68033274cd7a8f"},
             {"name":"empty","type":"f","mtime":"2026-11-20T23:52:25Z","obj":"d9295958410ae3b73f68033274cd7a8f","future":1},
             {"name":"link","type":"s","mode":"0777","size":10,"mtime":"2026-11-20T23:52:25Z",
              "obj":"eeb4667f7f13101e7d31214a9ba28a40"}
            ],"summary":{"size":41,"files":3,"symlinks":1,"dirs":1,"maxTime":"2026-11-20T23:52:25Z","numFailed":0}}
            """
        let dir = try Directory.parse(Array(json.utf8), objectID: Self.objectID)
        #expect(dir.entries.map(\.name) == ["shared", "tool", "tmp", "empty", "link"])
        let shared = try #require(dir.entry(named: "shared"))
        #expect(shared.type == .directory)
        #expect(shared.permissions.rawValue == 0o2775)
        #expect(shared.permissions.symbolic == "rwxrwsr-x")
        #expect(shared.uid == 1000 && shared.gid == 2000)
        #expect(shared.modified.nanoseconds == 123_456_789)
        #expect(shared.modified.offsetSeconds == -7 * 3600)
        #expect(shared.summary?.symlinkCount == 1)
        let tool = try #require(dir.entry(named: "tool"))
        #expect(tool.permissions.rawValue == 0o4755)
        #expect(tool.permissions.symbolic == "rwsr-xr-x")
        #expect(tool.size == 31)
        #expect(tool.objectID.indirection == 1)
        #expect(dir.entry(named: "tmp")?.permissions.rawValue == 0o1777)
        #expect(dir.entry(named: "tmp")?.permissions.symbolic == "rwxrwxrwt")
        #expect(dir.entry(named: "empty")?.size == 0)
        #expect(dir.entry(named: "empty")?.permissions.rawValue == 0)
        #expect(dir.entry(named: "link")?.type == .symlink)
        #expect(dir.summary?.totalSize == 41)
    }

    @Test func nullEntriesIsAnEmptyDirectory() throws {
        let dir = try Directory.parse(Array("{\"stream\":\"kopia:directory\",\"entries\":null,\"summary\":{}}".utf8),
                                      objectID: Self.objectID)
        #expect(dir.entries.isEmpty)
    }

    @Test(arguments: [
        "{\"stream\":\"kopia:indirect\",\"entries\":[]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"..\",\"type\":\"d\",\"obj\":\"k775264b8fc7e19ceeed7b791c9750a69\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"a/b\",\"type\":\"f\",\"obj\":\"d9295958410ae3b73f68033274cd7a8f\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"\",\"type\":\"f\",\"obj\":\"d9295958410ae3b73f68033274cd7a8f\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"a\",\"type\":\"f\",\"mode\":\"0x1ff\",\"obj\":\"d9295958410ae3b73f68033274cd7a8f\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"a\",\"type\":\"f\",\"obj\":\"Q123\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"a\",\"type\":\"f\",\"mtime\":\"never\",\"obj\":\"d9295958410ae3b73f68033274cd7a8f\"}]}",
        "{\"stream\":\"kopia:directory\",\"entries\":[{\"name\":\"a\"",
    ])
    func invalidListingsAreRejectedWithTheObjectNamed(_ json: String) {
        #expect {
            _ = try Directory.parse(Array(json.utf8), objectID: Self.objectID)
        } throws: { ($0 as? KopiaError)?.code == .invalidDirectory && ($0 as? KopiaError)?.objectID == Self.objectID.description }
    }

    @Test(arguments: [(UInt32(0o644), "rw-r--r--"), (0o750, "rwxr-x---"), (0o6000, "--S--S---"), (0o1770, "rwxrwx--T")])
    func permissionsPrintLikeLs(_ bits: UInt32, _ text: String) {
        let p = FilePermissions(rawValue: bits)
        #expect(p.symbolic == text)
        #expect(FilePermissions(goMode: p.goMode) == p)
    }
}
