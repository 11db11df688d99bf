import Foundation
@testable import Kopia

/// Hex helpers and an independent peer (python3's hashlib/zlib/hmac, which does not use our code paths)
/// for the codec suites.
enum T {
    static func hex(_ s: String) -> [UInt8] { Hex.decode(s) ?? [] }
    static func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Deterministic pseudo-random bytes (xorshift64*), so failures are reproducible.
    static func bytes(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            out[i] = UInt8(truncatingIfNeeded: (state &* 2685821657736338717) >> 56)
        }
        return out
    }

    /// Compressible text-like bytes (words drawn from a small vocabulary).
    static func text(count: Int, seed: UInt64) -> [UInt8] {
        let words = ["kopia ", "ferry ", "snapshot ", "content ", "pack ", "index ", "blob ", "\n", "0123 ", "restore "]
            .map { Array($0.utf8) }
        var out = [UInt8](repeating: 0, count: count)
        let noise = bytes(count: count / 4 + 1, seed: seed)
        var i = 0, o = 0
        while o < count {
            for b in words[Int(noise[i]) % words.count] where o < count { out[o] = b; o += 1 }
            i += 1
        }
        return out
    }

    /// Runs `python3 -c script` with `input` on stdin and returns stdout. Throws when python3 fails.
    static func python(_ script: String, input: [UInt8] = []) throws -> [UInt8] {
        try run("/usr/bin/env", ["python3", "-c", script], input: input)
    }

    /// Runs a program with `input` on stdin and returns stdout. Throws when it exits non-zero.
    static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // stdin from a temporary file and stderr to another, so only stdout is a pipe (no deadlock).
        let dir = FileManager.default.temporaryDirectory
        let inURL = dir.appendingPathComponent("ferry-peer-in-\(UUID().uuidString)")
        let errURL = dir.appendingPathComponent("ferry-peer-err-\(UUID().uuidString)")
        try Data(input).write(to: inURL)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: inURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let stdout = Pipe()
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let err = (try? Data(contentsOf: errURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw PeerError(message: String(decoding: err, as: UTF8.self))
        }
        return Array(out)
    }

    struct PeerError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}
