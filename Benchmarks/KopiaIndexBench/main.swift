// kopia-index-bench: measures opening a repository's content index (kopia-format.md §8, §13), for
// `/usr/bin/time -v` (peak RSS). Not a test: it asserts nothing about time (STYLE.md rule 15).
//
//   kopia-index-bench load <repository dir> [password]
//       opens the format (scrypt) and loads the index; prints entries, index blobs and the load time.
//   kopia-index-bench generate <new dir> <entries> [index blobs] [fixture dir]
//       writes a repository whose format blob is copied from a fixture (password `fixture-password`) and whose
//       `xn0_` index blobs hold <entries> random 16-byte-hash entries over 1000 packs (no pack data).
//   kopia-index-bench refresh <repository dir> <password> <tree dir> [rounds]
//       opens the repository, then per round: writes one snapshot of <tree dir> with Ferry's writer (one file
//       added each round), refreshes the opened repository (`KopiaRepository.refreshed`: incremental), and
//       re-reads it in full the way a refresh did before (all index blobs and all manifests, format reused),
//       in alternating order. Prints both times and their ratio per round, and each one's peak RSS above the RSS
//       at its start (peak reset through /proc/self/clear_refs after malloc_trim; the previous repository stays
//       open during both, as in the controller's cache).
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Kopia
import Logging

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// A field of /proc/self/status in KiB (VmRSS, VmHWM); 0 where there is none.
func statusKiB(_ field: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}

/// Returns freed memory to the kernel and resets the peak RSS (Linux `clear_refs` 5), so that VmHWM afterwards is
/// the peak of what follows; returns the RSS at the reset (KiB).
func resetPeak() -> Int {
    #if canImport(Glibc)
    // glibc's malloc_trim, which the Glibc module does not export.
    if let trim = dlsym(nil, "malloc_trim") {
        _ = unsafeBitCast(trim, to: (@convention(c) (Int) -> Int32).self)(0)
    }
    #endif
    try? Data("5".utf8).write(to: URL(fileURLWithPath: "/proc/self/clear_refs"))
    return statusKiB("VmRSS")
}

let args = CommandLine.arguments
guard args.count >= 3 else { fail("usage: kopia-index-bench load <dir> [password] | generate <dir> <entries> [blobs] [fixture]") }

switch args[1] {
case "load":
    let password = args.count > 3 ? args[3] : "fixture-password"
    let storage = try FilesystemStorage(root: args[2])
    var start = ContinuousClock.now
    let format = try await RepositoryFormat.open(storage: storage, password: password)
    let formatSeconds = seconds(since: start)
    start = ContinuousClock.now
    let manager = try await ContentManager.open(storage: storage, format: format, logger: Logger(label: "bench"))
    let loadSeconds = seconds(since: start)
    // One lookup per entry, to show lookups are cheap once loaded.
    start = ContinuousClock.now
    var found = 0
    for prefix in [UInt8(0), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "x")] {
        for id in manager.contentIDs(prefix: prefix) where manager.info(id) != nil { found += 1 }
    }
    let lookupSeconds = seconds(since: start)
    print("index blobs: \(manager.indexBlobs.count), entries: \(manager.entryCount), live looked up: \(found)")
    print(String(format: "format open (scrypt): %.3f s, index load: %.3f s, lookups: %.3f s", formatSeconds, loadSeconds,
                 lookupSeconds))

case "generate":
    guard args.count >= 4, let entries = Int(args[3]), entries > 0 else { fail("generate needs <dir> <entries>") }
    let blobs = args.count > 4 ? max(Int(args[4]) ?? 4, 1) : 4
    let fixture = args.count > 5 ? args[5]
        : URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/fixtures/kopia/fs-default").path
    let fm = FileManager.default
    try fm.createDirectory(atPath: args[2], withIntermediateDirectories: true)
    for name in [".shards", "kopia.repository.f", "kopia.blobcfg.f"] {
        try? fm.removeItem(atPath: args[2] + "/" + name)
        try fm.copyItem(atPath: fixture + "/" + name, toPath: args[2] + "/" + name)
    }
    let storage = try FilesystemStorage(root: args[2])
    let format = try await RepositoryFormat.open(storage: storage, password: "fixture-password")
    var rng = SystemRandomNumberGenerator()
    let packs = (0..<1000).map { _ in "p" + Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }) + "-s0123456789abcdef147" }
    let perBlob = (entries + blobs - 1) / blobs
    var written = 0
    for b in 0..<blobs {
        let n = min(perBlob, entries - written)
        guard n > 0 else { break }
        var batch: [IndexV2Encoder.Entry] = []
        batch.reserveCapacity(n)
        for i in 0..<n {
            let hash = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            batch.append(IndexV2Encoder.Entry(
                contentID: ContentID(prefix: i % 50 == 0 ? UInt8(ascii: "k") : 0, hash: hash),
                packBlobID: packs[Int.random(in: 0..<packs.count, using: &rng)], packOffset: UInt32(32 + i % 100_000 * 64),
                packedLength: 4_000_028, originalLength: 4_000_000, timestampSeconds: 1_795_218_745,
                formatVersion: 2, compressionHeaderID: i % 3 == 0 ? 0x1101 : 0))
        }
        let plain = try IndexV2Encoder.encode(batch)
        let id = "xn0_" + Hex.encode(format.hasher.hash(plain)) + "-s\(String(format: "%016x", b))147-c1"
        try await storage.write(id, try format.cipher.encrypt(plain, iv: try ContentCipher.blobIV(forBlobID: id)))
        written += n
    }
    print("wrote \(written) entries in \(blobs) index blobs to \(args[2])")

case "refresh":
    guard args.count >= 5 else { fail("refresh needs <repository dir> <password> <tree dir> [rounds]") }
    let rounds = args.count > 5 ? max(Int(args[5]) ?? 3, 1) : 3
    let logger = Logger(label: "bench")
    let storage = try FilesystemStorage(root: args[2])
    var start = ContinuousClock.now
    var repository = try await KopiaRepository.open(storage: storage, password: args[3], logger: logger)
    let openSeconds = seconds(since: start)
    guard let manager = repository.contents as? ContentManager else { fail("not a content manager") }
    print("opened in \(String(format: "%.3f", openSeconds)) s: \(manager.indexBlobs.count) index blobs, "
          + "\(manager.entryCount) entries, \(repository.manifests.contentCount) manifest contents, "
          + "\(repository.catalog.snapshots.count) snapshots")
    let source = SnapshotSource(userName: "bench", host: "refresh", path: "/tree")
    for round in 1...rounds {
        try Data("round \(round) \(UUID())".utf8).write(to: URL(fileURLWithPath: args[4] + "/bench-refresh-\(round)"))
        start = ContinuousClock.now
        _ = try await RepositoryWriter.open(storage: storage, password: args[3], logger: logger)
            .snapshot(path: args[4], source: source, options: .init())
        let writeSeconds = seconds(since: start)
        var incremental = 0.0
        var full = 0.0
        var incrementalPeak = 0
        var fullPeak = 0
        var refreshed = repository
        for order in (round % 2 == 0 ? [0, 1] : [1, 0]) {
            let base = resetPeak()
            start = ContinuousClock.now
            if order == 0 {
                refreshed = try await repository.refreshed(logger: logger)
                incremental = seconds(since: start)
                incrementalPeak = statusKiB("VmHWM") - base
            } else {
                // What `refreshed` did before it was incremental: every index blob and manifest read again.
                let contents = try await ContentManager.open(storage: storage, format: repository.format, logger: logger)
                let manifests = try await ManifestStore.load(from: contents, logger: logger)
                let again = try KopiaRepository(storage: storage, format: repository.format, contents: contents,
                                                manifests: manifests)
                full = seconds(since: start)
                fullPeak = statusKiB("VmHWM") - base
                guard again.catalog.snapshots.count == repository.catalog.snapshots.count + 1 else {
                    fail("the full reload does not show the new snapshot")
                }
            }
        }
        // The index part of the incremental refresh alone (listing, added blobs, merge).
        var indexOnly = 0.0
        if let current = repository.contents as? ContentManager {
            start = ContinuousClock.now
            _ = try await current.refreshed(logger: logger)
            indexOnly = seconds(since: start)
        }
        guard refreshed.catalog.snapshots.count == repository.catalog.snapshots.count + 1 else {
            fail("the refresh does not show the new snapshot")
        }
        repository = refreshed
        let blobs = (repository.contents as? ContentManager)?.indexBlobs.count ?? 0
        print(String(format: "round %d: snapshot written in %.3f s; %d index blobs; refresh incremental %.4f s (index part %.4f s), full %.4f s, full/incremental %.1fx; peak RSS above the start of each: incremental %.1f MiB, full %.1f MiB",
                     round, writeSeconds, blobs, incremental, indexOnly, full, full / max(incremental, 1e-9),
                     Double(incrementalPeak) / 1024, Double(fullPeak) / 1024))
    }

default:
    fail("unknown command \(args[1])")
}
