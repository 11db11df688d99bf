import ArgumentParser
import FerryControllers
import Foundation
import Kopia
import Logging

/// `ferry populate --target DIR [selection] [--verify] [--report PATH]`: what the populator pod runs (issue 13
/// item 4). Restores one snapshot into the mounted volume, resumable, and reports as JSON where the controller
/// reads it.
struct PopulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "populate",
        abstract: "Restore one Kopia snapshot into a mounted volume (the populator pod's command).",
        discussion: """
            The repository comes from the environment exactly as VolSync's kopia-config Secret names it
            (KOPIA_REPOSITORY, KOPIA_PASSWORD, AWS_*); the controller passes them through a short-lived Secret, never
            as arguments. When the controller has opened the repository itself, that Secret carries
            FERRY_KOPIA_REPOSITORY_KEY (the key the password derives for this one repository) instead of
            KOPIA_PASSWORD, and the password key derivation is skipped. The snapshot is normally pinned with --snapshot ID; with a selection instead, the chosen
            ID is reported so the controller can pin it.

            Resumable: files already present with the snapshot's size and mtime are kept (--skip-existing
            semantics), so a restarted pod finishes the job. Owners (as root), modes, mtimes, symlinks and sparse
            files are restored. The volume's capacity is checked against the snapshot's size before anything is
            written. With --verify, every content the snapshot references is read and authenticated afterwards.

            Progress is printed as one JSON object per line on stdout; the final report (succeeded or failed, with
            what failed) is also written to --report (default /dev/termination-log when it exists), which
            Kubernetes shows as the container's termination message.

            """ + ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var selection: SnapshotSelectionOptions

    @Option(help: ArgumentHelp("The mounted volume to restore into.", valueName: "DIR"))
    var target: String

    @Option(help: ArgumentHelp("Where the final JSON report goes (default: /dev/termination-log if present).", valueName: "PATH"))
    var report: String?

    @Option(help: ArgumentHelp("Seconds between progress lines (default 2).", valueName: "S"))
    var progressInterval: Double = 2

    @Option(help: ArgumentHelp("Concurrent pack reads (default: twice the CPU count).", valueName: "N"))
    var parallel: Int?

    @Flag(help: "After the restore, read and authenticate every content the snapshot references.")
    var verify = false

    @Flag(help: "Do not restore file owners.")
    var noOwner = false

    @Flag(help: "Write runs of zeros instead of leaving holes.")
    var noSparse = false

    @Flag(help: "Skip the capacity check (the volume's size against the snapshot's).")
    var noSizeCheck = false

    func validate() throws {
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1") }
        if target.isEmpty { throw ValidationError("--target must not be empty") }
        guard progressInterval > 0, progressInterval <= 3600 else {
            throw ValidationError("--progress-interval must be between 0 and 3600 seconds")
        }
    }

    func run() async throws {
        let sink = PopulateReportSink(path: report ?? Self.defaultReportPath())
        var current = PopulateReport(state: .failed)
        do {
            try await CommandFailure.run {
                FileLimits.raise()
                let selection = try selection.selection()
                let logger = Logger(label: "ferry")
                let repo: KopiaRepository
                let snapshot: SnapshotManifest
                do {
                    repo = try await repository.open(logger: logger)
                    snapshot = try repo.select(selection)
                } catch {
                    var classified = KopiaSnapshotResolution.classify(error)
                    if case .id = selection.target, classified.code == .noMatchingSnapshot { classified.code = .snapshotGone }
                    current.reason = classified.code.reason
                    throw error
                }
                current.snapshotID = snapshot.id
                current.identity = snapshot.source.description
                current.startTime = snapshot.startTime.description
                var resolved = current
                resolved.state = .resolved
                resolved.bytesTotal = snapshot.totals.size
                sink.progress(resolved)
                if !noSizeCheck { try PopulateCapacity.check(target: target, snapshot: snapshot) }
                current = try await populate(repo: repo, snapshot: snapshot, logger: logger, sink: sink, base: current)
                sink.final(current)
            }
        } catch let exit as ExitCode {
            current.state = .failed
            if current.message == nil { current.message = CommandFailure.lastMessage ?? "ferry populate failed" }
            current.reason = current.reason ?? PopulateFailureReason.reason(forExitCode: exit.rawValue)
            sink.final(current)
            throw exit
        }
    }

    private func populate(repo: KopiaRepository, snapshot: SnapshotManifest, logger: Logger, sink: PopulateReportSink,
                          base: PopulateReport) async throws -> PopulateReport {
        let options = RestoreOptions(parallelism: parallel, skipExisting: true, restoreOwnership: !noOwner,
                                     sparse: !noSparse)
        let progress = RestoreProgress()
        let start = ContinuousClock.now
        var report = base
        let ticker = Task { [progressInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(progressInterval * 1000)))
                if Task.isCancelled { break }
                sink.progress(PopulateReport.progress(base, progress.snapshot(), since: start))
            }
        }
        let result: RestoreResult
        do {
            result = try await SnapshotRestorer(repository: repo, options: options, logger: logger)
                .restore(snapshot.rootEntry, into: target, progress: progress)
        } catch {
            ticker.cancel()
            throw error
        }
        ticker.cancel()
        report = PopulateReport.progress(base, progress.snapshot(), since: start)
        report.filesSkipped = result.skipped
        report.filesDone = result.files
        report.bytesDone = result.bytes
        if !result.succeeded {
            report.state = .failed
            let damaged = result.failures.contains(where: \.isDamage)
            report.reason = damaged ? PopulatingError.Code.damagedRepository.reason : "RestoreFailed"
            let first = result.failures.first.map { TextEscaping.escape($0.description) } ?? "stopped early"
            report.message = "restore of snapshot \(snapshot.id) failed for \(result.failures.count) path(s); first: \(first)"
            CommandFailure.lastMessage = report.message
            sink.final(report)
            try RestoreExit.check(failures: result.failures, stoppedEarly: result.stoppedEarly)
        }
        if verify {
            let checked = try await SnapshotVerifier(repository: repo, options: RestoreOptions(parallelism: parallel),
                                                     logger: logger)
                .verify(snapshot.rootEntry, percent: 100, progress: RestoreProgress())
            if !checked.damaged.isEmpty {
                report.state = .failed
                report.reason = PopulatingError.Code.damagedRepository.reason
                report.message = "verify of snapshot \(snapshot.id) found \(checked.damaged.count) damaged file(s); first: "
                    + TextEscaping.escape(checked.damaged[0].description)
                CommandFailure.lastMessage = report.message
                sink.final(report)
                try RestoreExit.check(failures: checked.damaged, stoppedEarly: false)
            }
            report.verified = true
        }
        report.state = .succeeded
        report.seconds = Self.seconds(ContinuousClock.now - start)
        report.bytesPerSecond = report.seconds > 0 ? Int64(Double(report.bytesTotal) / report.seconds) : 0
        return report
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func defaultReportPath() -> String? {
        let path = "/dev/termination-log"
        return FileManager.default.isWritableFile(atPath: path) ? path : nil
    }
}

extension PopulateReport {
    /// A progress report from the restore's live counters.
    static func progress(_ base: PopulateReport, _ p: RestoreProgress.Snapshot, since start: ContinuousClock.Instant)
        -> PopulateReport {
        var r = base
        r.state = .progress
        r.bytesDone = p.bytesDone
        r.bytesTotal = p.bytesTotal
        r.filesDone = p.filesDone
        r.filesTotal = p.filesTotal
        r.seconds = (PopulateCommand.seconds(ContinuousClock.now - start) * 1000).rounded() / 1000
        r.bytesPerSecond = r.seconds > 0 ? Int64(Double(p.bytesDone) / r.seconds) : 0
        return r
    }
}

/// Where reports go: progress lines to stdout, the final report to stdout and the report file.
final class PopulateReportSink: Sendable {
    let path: String?
    init(path: String?) { self.path = path }

    func progress(_ r: PopulateReport) {
        FileHandle.standardOutput.write(Data((r.encodedLine() + "\n").utf8))
    }

    func final(_ r: PopulateReport) {
        progress(r)
        guard let path else { return }
        // The termination message is capped at 4 KiB by Kubernetes; the report is far smaller.
        FileManager.default.createFile(atPath: path, contents: Data((r.encodedLine() + "\n").utf8))
    }
}

/// The report's `reason` for an exit code (the condition reasons of PopulatingError).
enum PopulateFailureReason {
    static func reason(forExitCode code: Int32) -> String {
        switch code {
        case ExitCodes.repository: "RepositoryUnavailable"
        case ExitCodes.notFound: PopulatingError.Code.snapshotGone.reason
        case ExitCodes.damaged: PopulatingError.Code.damagedRepository.reason
        case ExitCodes.unavailable: PopulatingError.Code.repositoryUnreachable.reason
        case ExitCodes.usage: "InvalidArguments"
        case PopulateCapacity.exitCode: PopulatingError.Code.volumeTooSmall.reason
        default: "PopulateFailed"
        }
    }
}

/// The volume must be able to hold the snapshot: checked before anything is written.
enum PopulateCapacity {
    static let exitCode: Int32 = ExitCodes.volumeTooSmall

    static func check(target: String, snapshot: SnapshotManifest) throws {
        var fs = statvfs()
        guard statvfs(target, &fs) == 0 else {
            throw CommandError.usage("cannot read the capacity of \(target): \(String(cString: strerror(errno)))")
        }
        let capacity = Int64(fs.f_blocks) * Int64(fs.f_frsize)
        let needed = snapshot.totals.size
        guard needed <= capacity else {
            let message = "volume too small: snapshot \(snapshot.id) holds \(needed) bytes of files but \(target) has a capacity of \(capacity) bytes"
            CommandFailure.lastMessage = message
            FileHandle.standardError.write(Data("ferry: error: \(message)\n".utf8))
            throw ExitCode(exitCode)
        }
    }
}
