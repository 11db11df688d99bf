import Foundation
import KopiaTestSupport
import Testing

/// `ferry snapshot list` run as a subprocess against every fixture.
struct SnapshotListCLITests {
    @Test(arguments: Fixtures.all)
    func listShowsEverySnapshotNewestFirstAsTheManifestSays(_ fixture: String) throws {
        let manifest = try FixtureManifest.load(fixture)
        let result = try FerryProcess.run(["snapshot", "list"], environment: FerryProcess.fixtureEnvironment(fixture))
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ID ") == true)
        let rows = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        let expected = manifest.snapshots.sorted { $0.startTime > $1.startTime }
        #expect(rows.map { $0[0] } == expected.map(\.id))
        for (row, want) in zip(rows, expected) {
            #expect(row[1] == want.identity)
            #expect(row[2] == want.startTime)
            if let end = want.endTime { #expect(row[3] == end) }
            #expect(row[4] == String(want.totalSize))
            #expect(row[5] == String(want.files))
            #expect(row[6] == String(want.dirs))
            #expect(row[7] == "complete")
            #expect(row[8...].joined(separator: " ") == want.description)
        }
    }

    @Test func jsonListCarriesEveryFieldAndFiltersByIdentity() throws {
        let manifest = try FixtureManifest.load("fs-identities")
        let result = try FerryProcess.run(["snapshot", "list", "--json", "--identity", "db-backup-production@production"],
                                          environment: FerryProcess.fixtureEnvironment("fs-identities"))
        #expect(result.status == 0, "\(result.stderr)")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let expected = manifest.snapshots.filter { $0.identity == "db-backup-production@production:/data" }
            .sorted { $0.startTime > $1.startTime }
        #expect(items.compactMap { $0["id"] as? String } == expected.map(\.id))
        for (item, want) in zip(items, expected) {
            #expect(item["identity"] as? String == want.identity)
            #expect(item["startTime"] as? String == want.startTime)
            #expect(item["endTime"] as? String == want.endTime)
            #expect(item["description"] as? String == want.description)
            #expect(item["incomplete"] as? Bool == false)
            #expect((item["fileCount"] as? NSNumber)?.intValue == want.files)
            #expect((item["totalSize"] as? NSNumber)?.int64Value == want.totalSize)
            #expect(item["rootObject"] as? String == want.rootObject)
            #expect(item["stats"] is [String: Any])
        }
    }
}
