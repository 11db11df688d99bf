import Synchronization

/// The verify's output: the restore pipeline with nothing written. Every content is still read, authenticated,
/// decompressed and length-checked on its way to the sink (`RestorePipeline.deliver`); the sink only remembers
/// which files failed and counts the bytes of the others.
final class DiscardingOutput: RestoreOutput, Sendable {
    private let progress: RestoreProgress
    private let state = Mutex(Tally())

    /// What the verify found so far.
    struct Tally: Sendable {
        var directories = 0
        var symlinks = 0
        var filesChecked = 0
        var bytes: Int64 = 0
        var damaged: [RestoreResult.Failure] = []
    }

    init(progress: RestoreProgress) {
        self.progress = progress
    }

    var tally: Tally { state.withLock { $0 } }
    var hasFailures: Bool { state.withLock { !$0.damaged.isEmpty } }

    func prepare(_ window: RestorePlan) async throws -> (files: [RestorePlan.PlannedFile], sink: DiscardingSink) {
        progress.addTotals(files: window.files.count, bytes: window.totalBytes)
        return (window.files, DiscardingSink(count: window.files.count, progress: progress))
    }

    func finish(_ window: RestorePlan, files: [RestorePlan.PlannedFile], sink: DiscardingSink, stopping: Bool)
        async throws
    {
        let failed = sink.failures
        state.withLock { t in
            t.directories += window.directories.count
            t.symlinks += window.symlinks.count
            t.filesChecked += files.count
            t.damaged += window.failures.map { RestoreResult.Failure(path: $0.path, error: $0.error) }
            for (i, file) in files.enumerated() {
                if let error = failed[i] {
                    t.damaged.append(RestoreResult.Failure(path: file.path, error: error.adding(path: file.path)))
                } else {
                    t.bytes += file.expectedSize
                }
            }
        }
    }
}

/// Remembers the first error of each file of a window; drops the bytes.
final class DiscardingSink: ContentSink, Sendable {
    private let errors: Mutex<[Int: KopiaError]>
    private let progress: RestoreProgress

    init(count: Int, progress: RestoreProgress) {
        errors = Mutex([:])
        self.progress = progress
    }

    var failures: [Int: KopiaError] { errors.withLock { $0 } }

    func write(file: Int, offset: Int64, bytes: UnsafeRawBufferPointer) {
        progress.addBytes(Int64(bytes.count))
    }

    func fail(file: Int, error: KopiaError) {
        errors.withLock { m in
            if m[file] == nil { m[file] = error }
        }
    }

    func completeEmptyFiles() {}
}
