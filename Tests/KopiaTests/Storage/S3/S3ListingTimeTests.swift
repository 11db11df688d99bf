import Foundation
@testable import Kopia
import Testing

/// `LastModified` in listings comes from any S3 endpoint: long fractions and out-of-range fields never trap
/// (issue 17 item 10: more than 18 fraction digits overflowed Int64).
struct S3ListingTimeTests {
    @Test func fractionLongerThanEighteenDigitsKeepsNanoseconds() throws {
        let t = try #require(S3ListObjectsPage.parseTime("2026-10-21T10:00:48.306304895555555555552Z"))
        let expected = Date(timeIntervalSince1970: 1_792_576_848.306304895)
        #expect(abs(t.timeIntervalSince(expected)) < 1e-6)
    }

    @Test(arguments: ["2026-10-21T40:00:48.306304895555555555552Z", "2026-10-21T10:60:48Z", "2026-10-21T10:00:62Z",
                      "2026-02-30T10:00:00Z", "2026-10-21T10:00:48.Z", "2026-10-21T10:00:48.12a4Z",
                      "2026-10-21T10:00:48." + String(repeating: "9", count: 400) + "x" + "Z"])
    func outOfRangeOrMalformedTimesAreNil(_ text: String) {
        #expect(S3ListObjectsPage.parseTime(text) == nil)
    }

    @Test func aListingWithAHostileTimeStillParses() throws {
        let xml = """
            <ListBucketResult><IsTruncated>false</IsTruncated>
            <Contents><Key>p1</Key><Size>3</Size><LastModified>2026-10-21T40:00:48.306304895555555555552Z</LastModified></Contents>
            <Contents><Key>p2</Key><Size>4</Size><LastModified>2026-10-21T10:00:48.000000000000000000001Z</LastModified></Contents>
            </ListBucketResult>
            """
        let page = try S3ListObjectsPage.parse(Array(xml.utf8))
        #expect(page.objects.map(\.key) == ["p1", "p2"])
        #expect(page.objects[0].lastModified == nil)
        #expect(page.objects[1].lastModified == Date(timeIntervalSince1970: 1_792_576_848))
    }
}
