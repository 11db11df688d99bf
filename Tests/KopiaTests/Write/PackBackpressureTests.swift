import Foundation
@testable import Kopia
import KopiaTestSupport
import Synchronization
import Testing

/// The content writer's memory bound (issue 16): one full pack is written at a time, and while it is written
/// the other tasks fill at most one more pack — they wait instead of opening a third.
struct PackBackpressureTests {
    /// Storage whose pack writes are slow and which records, while each pack write is in flight, how many
    /// contents' bytes the writer had accepted beyond the packs already handed to storage.
    final class SlowPackStorage: ForwardingStorage {
        let base: any BlobStorage
        let writer = Mutex<ContentWriter?>(nil)
        /// (writes in flight, most seen at once, bytes of pack blobs handed over, most bytes accepted beyond them)
        let state = Mutex((inFlight: 0, maxInFlight: 0, handedOver: Int64(0), maxAhead: Int64(0)))

        init(_ base: any BlobStorage) { self.base = base }
        var displayName: String { "slow+" + base.displayName }
        func write(_ id: String, _ data: [UInt8]) async throws {
            guard id.hasPrefix("p") else { return try await base.write(id, data) }
            state.withLock {
                $0.inFlight += 1
                $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
                $0.handedOver += Int64(data.count)
            }
            // While this pack is "on the wire", the other tasks keep appending; sample how far they get.
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(20))
                let accepted = writer.withLock { $0?.stats.packedBytes } ?? 0
                state.withLock { $0.maxAhead = max($0.maxAhead, accepted - $0.handedOver) }
            }
            try await base.write(id, data)
            state.withLock { $0.inFlight -= 1 }
        }
    }

    @Test func packWritesNeverOverlapAndAtMostOnePackFillsMeanwhile() async throws {
        let dir = try WriteTestSupport.tempDir("backpressure")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        options.maxPackSize = 10 << 20
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let storage = SlowPackStorage(try FilesystemStorage(root: dir + "/repo"))
        let repo = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
        let session = try repo.session()
        storage.writer.withLock { $0 = session.contents }

        // 48 distinct 1 MiB contents from 8 tasks at once: 4–5 packs of 10 MiB.
        let chunk = 1 << 20
        let ids = try await withThrowingTaskGroup(of: [(Int, ContentID)].self) { group in
            for t in 0..<8 {
                group.addTask {
                    var out: [(Int, ContentID)] = []
                    for k in stride(from: t, to: 48, by: 8) {
                        var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: k), count: chunk)
                        withUnsafeBytes(of: UInt64(k)) { for (i, b) in $0.enumerated() { bytes[i] = b } }
                        out.append((k, try await session.contents.write(bytes)))
                    }
                    return out
                }
            }
            var all: [Int: ContentID] = [:]
            for try await written in group { for (k, id) in written { all[k] = id } }
            return all
        }
        try await session.flush()

        let seen = storage.state.withLock { $0 }
        #expect(seen.maxInFlight == 1, "pack writes overlapped: \(seen.maxInFlight) at once")
        #expect(seen.handedOver >= 40 << 20)
        // Accepted but not yet handed over: the pack being filled (≤ maxPackSize plus one content's overshoot).
        #expect(seen.maxAhead <= Int64((10 << 20) + chunk + 4096), "\(seen.maxAhead) bytes ahead of storage")
        #expect(seen.maxAhead > 0, "nothing was appended while a pack was written: the writer stalled everyone")

        // Every content is readable with its bytes.
        let reader = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        for (k, id) in ids {
            let bytes = try await reader.contents.content(id)
            #expect(bytes.count == chunk && bytes[8] == UInt8(truncatingIfNeeded: k), "content \(k)")
        }
        #expect(ids.count == 48)
        #expect(session.contents.stats.written == 48)
    }
}
