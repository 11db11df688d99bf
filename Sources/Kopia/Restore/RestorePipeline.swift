/// Where decoded file contents go: `FileAssembler` writes them into files (restore), `DiscardingSink` only
/// counts and checks them (verify).
///
/// Contract: for every planned chunk of every file in the window, exactly one `write` or `fail` call, from any
/// worker thread; `completeEmptyFiles` once, before the first chunk.
protocol ContentSink: Sendable {
    func write(file: Int, offset: Int64, bytes: UnsafeRawBufferPointer)
    func fail(file: Int, error: KopiaError)
    func completeEmptyFiles()
}

/// What a restore-shaped walk does with each window (kopia/kopia `snapshot/restore` writes through an `Output`
/// the same way): `ferry restore` creates and writes the tree, `ferry verify` discards what it read.
///
/// Called from the pipeline's task only, one window at a time and in order: `prepare`, then the contents go to
/// the returned sink, then `finish`.
protocol RestoreOutput: Sendable {
    associatedtype Sink: ContentSink
    /// Readies the window (restore: creates its directories) and returns the files whose contents must be read,
    /// with the sink they go to. Files left out (blocked below a failed directory, already present) are the
    /// output's to account for.
    func prepare(_ window: RestorePlan) async throws -> (files: [RestorePlan.PlannedFile], sink: Sink)
    /// Completes the window once its contents are in (restore: symlinks, then the finished directories'
    /// metadata, children before parents). With `stopping` (fail-fast), only accounts for what the sink did.
    func finish(_ window: RestorePlan, files: [RestorePlan.PlannedFile], sink: Sink, stopping: Bool) async throws
    /// Whether a file failed so far (for `failFast`).
    var hasFailures: Bool { get }
}

/// The engine shared by `SnapshotRestorer` and `SnapshotVerifier`: walk the snapshot in bounded windows
/// (`RestorePlanner`), and for each window read every content once — grouped by pack, coalesced, decoded on
/// worker threads within the memory budget (`ReadSchedule`, `PackReader`) — into the output's sink. The next
/// window is planned while the current one is read, so listing reads overlap with content reads.
///
/// Memory: two windows of per-file state, the listings on the walk's path, and the byte budget.
struct RestorePipeline: Sendable {
    let repository: KopiaRepository
    let options: RestoreOptions
    let progress: RestoreProgress
    let checkHashes: Bool

    /// Wall-clock seconds spent per phase, summed over windows.
    struct Phases: Sendable {
        var seconds: [(phase: String, seconds: Double)] = [
            ("plan", 0), ("directories", 0), ("contents", 0), ("metadata", 0),
        ]

        mutating func add(_ phase: String, _ d: Duration) {
            guard let i = seconds.firstIndex(where: { $0.phase == phase }) else { return }
            seconds[i].seconds += Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
    }

    /// Runs the walk of `planner` through `output`.
    /// - Returns: false when it stopped early (`failFast` and a failure).
    /// - Throws: on cancellation, and what `prepare`/`finish` throw.
    func run<Output: RestoreOutput>(_ planner: RestorePlanner, into output: Output, phases: inout Phases)
        async throws -> Bool
    {
        let clock = ContinuousClock()
        let source = RestoreContentSources.make(repository.contents, checkHashes: checkHashes)
        let budget = ByteBudget(capacity: options.memoryBudget)
        let failFast = options.failFast
        var mark = clock.now
        var window = try await planner.nextWindow()
        phases.add("plan", clock.now - mark)
        while let current = window {
            try Task.checkCancellation()
            async let following = planner.nextWindow()
            mark = clock.now
            let (files, sink) = try await output.prepare(current)
            phases.add("directories", clock.now - mark)
            mark = clock.now
            let schedule = ReadSchedule(files: files, source: source, maximumGap: options.maximumReadGap,
                                        maximumLength: options.maximumReadLength)
            for (file, error) in schedule.missing { sink.fail(file: file, error: error) }
            sink.completeEmptyFiles()
            let reader = PackReader(source: source, parallelism: options.parallelism, budget: budget,
                                    progress: progress)
            await reader.run(schedule, shouldStop: { failFast && output.hasFailures }) { content, outcome in
                Self.deliver(content, outcome, to: sink)
            }
            phases.add("contents", clock.now - mark)
            try Task.checkCancellation()
            let stopping = failFast && output.hasFailures
            mark = clock.now
            try await output.finish(current, files: files, sink: sink, stopping: stopping)
            if stopping {
                _ = try? await following
                return false
            }
            phases.add("metadata", clock.now - mark)
            mark = clock.now
            window = try await following
            phases.add("plan", clock.now - mark)
        }
        return true
    }

    /// Hands one decoded content to every place that needs it (decompressing `Z` objects once, checking lengths).
    static func deliver(_ content: ReadSchedule.Content, _ outcome: Result<[UInt8], KopiaError>,
                        to sink: some ContentSink) {
        switch outcome {
        case .failure(let error):
            for t in content.targets { sink.fail(file: t.file, error: error) }
        case .success(let plain):
            var expanded: [UInt8]?
            for t in content.targets {
                var bytes = plain
                if t.decompress {
                    if expanded == nil {
                        do {
                            expanded = try ObjectDecompression.decompress(plain, contentID: content.info.contentID)
                        } catch {
                            sink.fail(file: t.file, error: KopiaError.wrap(error).adding(
                                blobID: content.info.packBlobID, contentID: content.info.contentID.description))
                            continue
                        }
                    }
                    bytes = expanded ?? []
                }
                if t.exactLength, Int64(bytes.count) != t.length {
                    sink.fail(file: t.file, error: KopiaError(
                        .corruptContent, "chunk at offset \(t.offset) decodes to \(bytes.count) bytes, its list says \(t.length)",
                        blobID: content.info.packBlobID, contentID: content.info.contentID.description))
                    continue
                }
                bytes.withUnsafeBytes { sink.write(file: t.file, offset: t.offset, bytes: $0) }
            }
        }
    }
}
