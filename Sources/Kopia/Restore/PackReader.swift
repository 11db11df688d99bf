import Synchronization

/// Executes a `ReadSchedule`: `parallelism` workers each take the next unit, wait for its bytes in the memory
/// budget, read the range (one ranged read of one pack), then — off the cooperative pool — decrypt, decompress
/// and hash-check each content and hand the plaintext to `deliver`, which writes it (restore) or drops it
/// (verify). Decoding therefore runs on all cores, with as many units in flight as the budget allows.
///
/// A failed range read or a content that fails to decode reaches `deliver` as `.failure` for that content's
/// targets (the error names the pack and content); other contents go on. `shouldStop` is checked before each
/// unit (fail-fast, cancellation). Returns when every unit was delivered or skipped.
struct PackReader: Sendable {
    let source: any RestoreContentSource
    let parallelism: Int
    let budget: ByteBudget
    let progress: RestoreProgress

    typealias Deliver = @Sendable (ReadSchedule.Content, Result<[UInt8], KopiaError>) -> Void

    func run(_ schedule: ReadSchedule, shouldStop: @escaping @Sendable () -> Bool, deliver: @escaping Deliver) async {
        let units = schedule.units
        let workers = max(1, min(parallelism, units.count))
        let segments = Segments(count: units.count, parts: workers)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    while !shouldStop() && !Task.isCancelled {
                        guard let i = segments.take(preferring: worker) else { return }
                        await process(units[i], deliver: deliver)
                    }
                }
            }
        }
        // Units nobody took (stopped early) still owe their targets an answer.
        let stopped = KopiaError(.cancelled, "the restore stopped before this content was read")
        while let i = segments.take(preferring: 0) {
            for content in units[i].contents { deliver(content, .failure(stopped)) }
        }
    }

    private func process(_ unit: ReadSchedule.Unit, deliver: @escaping Deliver) async {
        let taken = await budget.acquire(unit.memoryCost)
        defer { budget.release(taken) }
        let raw: PackRange
        do {
            raw = try await source.fetch(pack: unit.pack, offset: unit.offset, length: unit.length,
                                         firstContent: unit.contents.first?.info.contentID)
        } catch {
            let e = KopiaError.wrap(error).adding(blobID: unit.pack)
            for content in unit.contents {
                deliver(content, .failure(e.adding(contentID: content.info.contentID.description)))
            }
            return
        }
        progress.packRead(bytes: Int64(raw.count), contents: unit.contents.count)
        let source = self.source
        do {
            try await BlockingIO.run {
                for content in unit.contents {
                    do {
                        deliver(content, .success(try source.decode(content.info, range: raw, rangeOffset: unit.offset)))
                    } catch {
                        deliver(content, .failure(KopiaError.wrap(error).adding(
                            blobID: content.info.packBlobID, contentID: content.info.contentID.description)))
                    }
                }
            }
        } catch {
            let e = KopiaError.wrap(error)
            for content in unit.contents { deliver(content, .failure(e)) }
        }
    }

    /// The units cut into one contiguous segment per worker. A worker reads its own segment front to back
    /// (sequential pack reads) and then helps with the others, so workers usually write *different* files at
    /// the same time — writes to one file serialize on its inode lock in the kernel.
    private final class Segments: Sendable {
        private let bounds: [Range<Int>]
        private let cursors: [Cursor]

        private final class Cursor: Sendable {
            let next: Atomic<Int>
            init(_ start: Int) { next = Atomic(start) }
        }

        init(count: Int, parts: Int) {
            let size = (count + parts - 1) / max(parts, 1)
            bounds = (0..<parts).map { p in min(count, p * size)..<min(count, (p + 1) * size) }
            cursors = bounds.map { Cursor($0.lowerBound) }
        }

        /// The next unit: from segment `preferring` while it lasts, then from the others in turn.
        func take(preferring first: Int) -> Int? {
            for k in 0..<bounds.count {
                let p = (first + k) % bounds.count
                guard cursors[p].next.load(ordering: .relaxed) < bounds[p].upperBound else { continue }
                let i = cursors[p].next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i < bounds[p].upperBound { return i }
            }
            return nil
        }
    }
}
