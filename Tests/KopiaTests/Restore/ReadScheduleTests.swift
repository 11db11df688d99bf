import Foundation
@testable import Kopia
import Testing

/// The planner-to-reads step: one read per run of neighbouring contents of one pack, each content once.
struct ReadScheduleTests {
    /// A source whose index is a fixed table.
    struct TableSource: RestoreContentSource {
        let table: [ContentID: ContentInfo]
        func locate(_ id: ContentID) -> ContentInfo? { table[id] }
        func fetch(pack: String, offset: Int64, length: Int, firstContent: ContentID?) async throws -> PackRange {
            PackRange([])
        }
        func fetchBlocking(pack: String, offset: Int64, length: Int, firstContent: ContentID?) throws -> PackRange? {
            nil
        }
        func decode(_ info: ContentInfo, range: PackRange, rangeOffset: Int64) throws -> [UInt8] { [] }
    }

    static func id(_ n: UInt8) -> ContentID { ContentID(prefix: 0, hash: [UInt8](repeating: n, count: 16)) }

    static func file(_ ids: [UInt8], length: Int64 = 100) -> RestorePlan.PlannedFile {
        let entry = DirectoryEntry(name: "f", type: .file, permissions: FilePermissions(rawValue: 0o644),
                                   size: length * Int64(ids.count), modified: KopiaTime(seconds: 0),
                                   objectID: ObjectID(contentID: id(ids[0])))
        let chunks = ids.enumerated().map { i, n in
            ObjectChunk(start: Int64(i) * length, length: length, contentID: id(n), isCompressed: false)
        }
        return RestorePlan.PlannedFile(parent: 0, name: "f", entry: entry, path: "f", chunks: chunks, ordinal: 0,
                                       lengthFromContent: false)
    }

    static let source = TableSource(table: [
        id(1): ContentInfo(contentID: id(1), packBlobID: "p1", packOffset: 32, packedLength: 128, originalLength: 100, timestampSeconds: 0),
        id(2): ContentInfo(contentID: id(2), packBlobID: "p1", packOffset: 160, packedLength: 128, originalLength: 100, timestampSeconds: 0),
        id(3): ContentInfo(contentID: id(3), packBlobID: "p1", packOffset: 10_000_000, packedLength: 128, originalLength: 100, timestampSeconds: 0),
        id(4): ContentInfo(contentID: id(4), packBlobID: "p0", packOffset: 32, packedLength: 128, originalLength: 100, timestampSeconds: 0),
    ])

    @Test func neighboursInOnePackAreReadTogetherAndFarOnesApart() {
        let schedule = ReadSchedule(files: [Self.file([2, 1, 3]), Self.file([4])], source: Self.source,
                                    maximumGap: 1 << 20, maximumLength: 8 << 20)
        #expect(schedule.units.map(\.pack) == ["p0", "p1", "p1"])
        #expect(schedule.units[1].offset == 32 && schedule.units[1].length == 256)
        #expect(schedule.units[1].contents.map(\.info.contentID) == [Self.id(1), Self.id(2)])
        #expect(schedule.units[2].offset == 10_000_000)
        #expect(schedule.contentCount == 4)
    }

    @Test func aSharedContentIsReadOnceForEveryPlaceItGoes() {
        let schedule = ReadSchedule(files: [Self.file([1, 1, 1]), Self.file([1])], source: Self.source,
                                    maximumGap: 0, maximumLength: 8 << 20)
        #expect(schedule.units.count == 1)
        let targets = schedule.units[0].contents[0].targets
        #expect(targets.map(\.file) == [0, 0, 0, 1])
        #expect(targets.map(\.offset) == [0, 100, 200, 0])
    }

    @Test func aRunStopsGrowingAtTheLengthLimit() {
        let schedule = ReadSchedule(files: [Self.file([1, 2])], source: Self.source, maximumGap: 1 << 20,
                                    maximumLength: 200)
        #expect(schedule.units.count == 2)
    }

    @Test func unknownContentsAreReportedPerChunk() {
        let schedule = ReadSchedule(files: [Self.file([9, 1, 9])], source: Self.source, maximumGap: 0,
                                    maximumLength: 1 << 20)
        #expect(schedule.missing.count == 2)
        #expect(schedule.missing.allSatisfy { $0.file == 0 && $0.error.code == .contentNotFound })
    }

    @Test func theBudgetServesWaitersInOrderAndClampsLargeRequests() async {
        let budget = ByteBudget(capacity: 100)
        let taken = await budget.acquire(1000)
        #expect(taken == 100)
        let waiter = Task { await budget.acquire(60) }
        budget.release(taken)
        #expect(await waiter.value == 60)
        budget.release(60)
    }
}
