import Foundation
import KopiaTestSupport

/// The independent Reed–Solomon peer: `scripts/peers/eccpeer`, a small Go program over klauspost/reedsolomon
/// (the library Kopia's ECC layer uses), from Debian's golang-github-klauspost-reedsolomon-dev (scripts/setup.sh
/// installs it and golang-go), built by `GoPeerBuild`.
enum GoECCPeer {
    static let binary: Result<URL, T.PeerError> = GoPeerBuild.build("eccpeer")

    /// klauspost's parity shards of whole blocks of `d × s` bytes.
    static func parity(d: Int, p: Int, s: Int, blocks: [UInt8]) throws -> [UInt8] {
        try T.run(try binary.get().path, ["parity", "\(d)", "\(p)", "\(s)"], input: blocks)
    }

    /// klauspost's `ReconstructData` of one block's `d + p` shards with `missing` dropped: the d data shards.
    static func reconstruct(d: Int, p: Int, s: Int, shards: [UInt8], missing: [Int]) throws -> [UInt8] {
        try T.run(try binary.get().path, ["reconstruct", "\(d)", "\(p)", "\(s)"] + missing.map(String.init), input: shards)
    }
}
