import Foundation
import KopiaTestSupport

/// The independent compression peer: `scripts/peers/codecpeer`, a small Go program over klauspost/compress
/// (the library Kopia compresses with), from Debian's golang-github-klauspost-compress-dev (scripts/setup.sh
/// installs it and golang-go). Built by `GoPeerBuild`.
enum GoCodecPeer {
    static let binary: Result<URL, T.PeerError> = GoPeerBuild.build("codecpeer")

    /// Runs the peer in `mode` over `input`; returns its stdout.
    static func run(_ mode: String, _ input: [UInt8], blockSize: Int? = nil) throws -> [UInt8] {
        let exe = try binary.get()
        return try T.run(exe.path, [mode] + (blockSize.map { [String($0)] } ?? []), input: input)
    }
}
