import Foundation
@testable import Kopia
import Testing

/// Blob names come from whoever can write the bucket: huge epoch numbers neither hang the selection nor overflow
/// (issue 17 item 10: `xe1700000000` looped ~W times, `xr0_9223372036854775807_a` trapped on `max + 1`).
struct EpochHostileNamesTests {
    @Test(.timeLimit(.minutes(1)))
    func hugeMarkerEpochSelectsPromptlyAndKeepsTheBlobsThatExist() {
        let chosen = EpochIndexBlobsTests.select(["xe1700000000", "xe999999999999999999", "xn0_aa", "xn5_bb",
                                                  "xs0_cc-s1-c1"])
        #expect(chosen.writeEpoch == 999_999_999_999_999_999)
        // Epoch 0 is settled and has a complete compaction set; epoch 5 has only its uncompacted blob.
        #expect(chosen.active.map(\.id) == ["xs0_cc-s1-c1", "xn5_bb"])
    }

    @Test(arguments: ["xr0_9223372036854775807_a", "xr9223372036854775807_9223372036854775807_a",
                      "xr0_99999999999999999999_a"])
    func rangeBlobAtTheIntegerLimitIsIgnoredNotATrap(_ name: String) {
        let chosen = EpochIndexBlobsTests.select([name + "-s1-c1", "xn0_aa"])
        #expect(chosen.active.map(\.id) == ["xn0_aa"])
    }

    @Test func largestAcceptedRangeStillChains() {
        let chosen = EpochIndexBlobsTests.select(["xr0_999999999999999999_a-s1-c1", "xn0_aa"])
        #expect(chosen.active.map(\.id) == ["xr0_999999999999999999_a-s1-c1"])
    }
}
