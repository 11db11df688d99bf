import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry snapshot create PATH --identity USER@HOST[:PATH]`.
struct SnapshotCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Snapshot a local directory into a Kopia repository (incremental, deduplicated, Kopia-compatible).",
        discussion: "Unreadable entries are reported and skipped (exit code 7). " + ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions

    @Argument(help: "The directory to snapshot.")
    var path: String

    @Option(help: "Source identity USER@HOST[:PATH]; PATH defaults to the absolute snapshot path.")
    var identity: String

    @Option(help: "File compression: none, zstd, zstd-fastest, s2-default, gzip (and Kopia's other names).")
    var compression = "none"

    @Option(help: "Snapshot description.")
    var description = ""

    @Option(help: "Files uploaded in parallel.")
    var parallel = 4

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await CommandFailure.run {
            // Two malloc arenas, as for restore, and big buffers mapped on their own (see raiseForBackup).
            FileLimits.raiseForBackup()
            let password = try repository.password()
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            let source = try parseIdentity(defaultPath: absolute)
            var options = SnapshotUploadOptions(description: description, parallelism: parallel)
            options.compression = compression == "none" ? nil : try CompressionAlgorithm(name: compression)
            let storage = try repository.storage()
            let writer = try await RepositoryWriter.open(storage: storage, password: password, logger: Logger(label: "ferry"))
            let r = try await writer.snapshot(path: absolute, source: source, options: options)
            let seconds = Double(r.endTime.seconds - r.startTime.seconds)
                + Double(Int(r.endTime.nanoseconds) - Int(r.startTime.nanoseconds)) / 1e9
            if json {
                print(Self.json(r, seconds: seconds))
            } else {
                print("snapshot \(r.manifestID) of \(r.source): root \(r.rootObjectID)")
                print("  \(r.stats.fileCount) files (\(r.stats.cachedFiles) unchanged), \(r.stats.dirCount) dirs, \(r.symlinkCount) symlinks, \(r.stats.totalSize) bytes in \(String(format: "%.2f", seconds)) s")
                print("  \(r.contents.written) new contents (\(r.contents.packedBytes) bytes packed), \(r.contents.deduplicated) deduplicated, \(r.errors.count) errors, \(r.ignoredCount) ignored")
            }
            for e in r.errors { FileHandle.standardError.write(Data("ferry: skipped \(e.path): \(e.message)\n".utf8)) }
            if !r.errors.isEmpty { throw ExitCode(ExitCodes.partial) }
        }
    }

    private func parseIdentity(defaultPath: String) throws -> SnapshotSource {
        guard let at = identity.firstIndex(of: "@") else {
            throw CommandError.usage("--identity must be USER@HOST[:PATH]")
        }
        let user = String(identity[..<at])
        let rest = identity[identity.index(after: at)...]
        let host: String
        var sourcePath = defaultPath
        if let colon = rest.firstIndex(of: ":") {
            host = String(rest[..<colon])
            sourcePath = String(rest[rest.index(after: colon)...])
        } else {
            host = String(rest)
        }
        guard !user.isEmpty, !host.isEmpty, sourcePath.hasPrefix("/") else {
            throw CommandError.usage("--identity must be USER@HOST[:/ABSOLUTE/PATH]")
        }
        return SnapshotSource(userName: user, host: host, path: sourcePath)
    }

    static func json(_ r: SnapshotUploadResult, seconds: Double) -> String {
        func q(_ s: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }
        let errors = r.errors.map { "{\"path\":\(q($0.path)),\"error\":\(q($0.message))}" }.joined(separator: ",")
        return """
            {"id":\(q(r.manifestID)),"source":\(q(r.source.description)),"rootObject":\(q(r.rootObjectID.description)),\
            "startTime":\(q(r.startTime.description)),"endTime":\(q(r.endTime.description)),"seconds":\(seconds),\
            "files":\(r.stats.fileCount),"cachedFiles":\(r.stats.cachedFiles),"dirs":\(r.stats.dirCount),\
            "symlinks":\(r.symlinkCount),"totalSize":\(r.stats.totalSize),"bytesRead":\(r.bytesRead),\
            "newContents":\(r.contents.written),"deduplicatedContents":\(r.contents.deduplicated),\
            "packedBytes":\(r.contents.packedBytes),"ignored":\(r.ignoredCount),"errors":[\(errors)]}
            """
    }
}
