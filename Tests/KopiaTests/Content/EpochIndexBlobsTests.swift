import Foundation
@testable import Kopia
import Testing

/// The active-set choice of kopia-format.md §8.1 and the complete-set rule.
struct EpochIndexBlobsTests {
    static func blobs(_ ids: String...) -> [BlobMetadata] { ids.map { BlobMetadata(id: $0, length: 1) } }

    static func select(_ all: [String]) -> EpochIndexBlobs {
        let metas = all.map { BlobMetadata(id: $0, length: 1) }
        func with(_ p: String) -> [BlobMetadata] { metas.filter { $0.id.hasPrefix(p) } }
        return EpochIndexBlobs.select(markers: with("xe"), watermarks: with("xw"), singles: with("xs"),
                                      ranges: with("xr"), uncompacted: with("xn"))
    }

    @Test
    func withoutMarkersEveryEpochZeroAndOneBlobIsActive() {
        let chosen = Self.select(["xn0_aa-s1-c1", "xn0_bb-s2-c1", "xn1_cc-s3-c1", "xn2_dd-s4-c1", "xn10_ee-s5-c1"])
        #expect(chosen.writeEpoch == 0 && chosen.watermark == Int64.min)
        #expect(chosen.active.map(\.id) == ["xn0_aa-s1-c1", "xn0_bb-s2-c1", "xn1_cc-s3-c1"])
    }

    @Test
    func settledEpochsUseTheirCompleteCompactionAndLaterOnesTheirUncompactedBlobs() {
        let chosen = Self.select([
            "xe0", "xe3", "xe5", "xw1700000000", "xw1700000500", "xw-garbage",
            "xs0_aa-s1-c1", "xs1_bb-s2-c2", "xs1_bc-s2-c2",  // complete sets for epochs 0 and 1
            "xs2_cc-s3-c2",  // incomplete: epoch 2 falls back to its xn blobs
            "xs4_dd-s4-c1",  // epoch 4 is not settled (W−2 = 3): ignored
            "xn0_00", "xn1_01", "xn2_02", "xn2_03", "xn3_04", "xn4_05", "xn5_06", "xn6_07", "xn7_08",
        ])
        #expect(chosen.writeEpoch == 5 && chosen.watermark == 1_700_000_500)
        #expect(chosen.active.map(\.id) == ["xs0_aa-s1-c1", "xs1_bb-s2-c2", "xs1_bc-s2-c2", "xn2_02", "xn2_03",
                                            "xn3_04", "xn4_05", "xn5_06", "xn6_07"])
    }

    @Test
    func theLongestRangeChainFromEpochZeroReplacesItsEpochs() {
        let chosen = Self.select([
            "xe9",
            "xr0_3_aa-s1-c1", "xr4_7_bb-s2-c1", "xr0_7_cc-s3-c1",  // tie at 7: the single range wins
            "xr8_8_dd-s4-c2",  // incomplete range: ignored
            "xr1_9_ee-s5-c1",  // does not start at 0 or continue the chain
            "xs8_ff-s6-c1", "xn7_gg", "xn8_hh", "xn9_ii", "xn10_jj", "xn11_kk",
        ])
        #expect(chosen.active.map(\.id) == ["xr0_7_cc-s3-c1", "xn8_hh", "xn9_ii", "xn10_jj"])
    }

    @Test
    func aLongerChainBeatsAShorterOne() {
        let chains = EpochIndexBlobs.longestChain([
            .init(min: 0, max: 5, blobs: Self.blobs("a")), .init(min: 0, max: 2, blobs: Self.blobs("b")),
            .init(min: 3, max: 9, blobs: Self.blobs("c")), .init(min: 6, max: 7, blobs: Self.blobs("d")),
        ])
        #expect(chains.flatMap(\.blobs).map(\.id) == ["b", "c"])
        #expect(EpochIndexBlobs.longestChain([.init(min: 1, max: 5, blobs: Self.blobs("x"))]).isEmpty)
    }

    @Test
    func completeSetsNeedAllTheirMembers() {
        #expect(CompleteSet.findFirst(Self.blobs("a-s1-c2", "c-s2-c1", "b-s1-c2")).map(\.id) == ["a-s1-c2", "b-s1-c2"])
        #expect(CompleteSet.findFirst(Self.blobs("a-s1-c2", "b-s2-c1", "c-s1-c2")).map(\.id) == ["b-s2-c1"])
        #expect(CompleteSet.findFirst(Self.blobs("a-s1-c3", "b-s1-c3")).isEmpty)
        #expect(CompleteSet.findFirst(Self.blobs("zz-s1-c3", "plain")).map(\.id) == ["plain"])
        #expect(CompleteSet.findFirst(Self.blobs("x-s1-cX")).map(\.id) == ["x-s1-cX"])
        #expect(CompleteSet.findFirst([]).isEmpty)
    }

    @Test
    func epochNumbersParseLikeKopia() {
        #expect(EpochIndexBlobs.epochNumber("xn12_abc", letters: 2, wholeRest: false) == 12)
        #expect(EpochIndexBlobs.epochNumber("xn12abc", letters: 2, wholeRest: false) == nil)
        #expect(EpochIndexBlobs.epochNumber("xe7", letters: 2, wholeRest: true) == 7)
        #expect(EpochIndexBlobs.epochNumber("xe", letters: 2, wholeRest: true) == nil)
        #expect(EpochIndexBlobs.epochNumber("xe99999999999999999999", letters: 2, wholeRest: true) == nil)
        #expect(EpochIndexBlobs.rangeBounds("xr3_10_abc-s1-c1") == .init(min: 3, max: 10))
        #expect(EpochIndexBlobs.rangeBounds("xr3_abc") == nil)
    }

    @Test
    func legacyCompactionLogsRetireTheirInputsOnlyWhenAllOutputsExist() {
        typealias Log = LegacyIndexBlobs.CompactionLog
        let logs = [
            Log(inputMetadata: [.init(id: "n1"), .init(id: "n2")], outputMetadata: [.init(id: "n3")]),
            Log(inputMetadata: [.init(id: "n4")], outputMetadata: [.init(id: "n5"), .init(id: "n-missing")]),
        ]
        let active = LegacyIndexBlobs.select(
            indexBlobs: Self.blobs("n1", "n2", "n3", "n4", "n5",
                                   "n00000000000000000000000000000000-repository_unreadable_by_this_kopia_version_upgrade_required"),
            logs: logs)
        #expect(active.map(\.id) == ["n3", "n4", "n5"])
    }
}
