import ArgumentParser
import Foundation
import Kopia
import Logging

/// `ferry ls [selection] [PATH] [-l] [-r] [--json]`: list a directory inside a snapshot.
struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List a directory (or show one entry) inside a snapshot.",
        discussion: """
            Long format (-l): TYPE+PERMISSIONS  UID:GID  SIZE  MTIME  NAME [-> SYMLINK TARGET]. Names with control
            characters or backslashes are printed with \\n, \\t, \\\\ and \\xNN escapes; directories end in "/".

            """ + ExitCodes.help
    )

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var selection: SnapshotSelectionOptions

    @Argument(help: ArgumentHelp("Path inside the snapshot (default: its root).", valueName: "PATH"))
    var path: String = ""

    @Flag(name: .shortAndLong, help: "Long format: type, mode, owner, size, mtime and symlink target.")
    var long = false

    @Flag(name: .shortAndLong, help: "List subdirectories recursively, with paths relative to PATH.")
    var recursive = false

    @Flag(help: "Print JSON (every field) instead of text.")
    var json = false

    func run() async throws {
        try await CommandFailure.run {
            let selection = try selection.selection()
            let repo = try await repository.open(logger: Logger(label: "ferry"))
            let snapshot = try repo.select(selection)
            let top = try await repo.entry(at: path, in: snapshot)
            var listed: [(path: String, entry: DirectoryEntry)] = []
            if top.type == .directory {
                try await Self.collect(repo, top, prefix: "", recursive: recursive, into: &listed)
            } else {
                listed.append((top.name, top))
            }
            var targets: [Int: String] = [:]
            if long || json {
                for (i, item) in listed.enumerated() where item.entry.type == .symlink {
                    targets[i] = try await repo.symlinkTarget(item.entry)
                }
            }
            if json {
                try JSONOutput.print(listed.enumerated().map { i, item in
                    EntryJSON(path: item.path, entry: item.entry, symlinkTarget: targets[i])
                })
                return
            }
            var lines: [String] = []
            for (i, item) in listed.enumerated() {
                let name = TextEscaping.escape(item.path) + (item.entry.type == .directory ? "/" : "")
                guard long else {
                    lines.append(name)
                    continue
                }
                let e = item.entry
                var line = "\(e.type.lsCharacter)\(e.permissions.symbolic)  \(e.uid):\(e.gid)  "
                line += String(repeating: " ", count: max(0, 12 - String(e.size).count)) + String(e.size)
                line += "  \(e.modified)  \(name)"
                if let target = targets[i] { line += " -> " + TextEscaping.escape(target) }
                lines.append(line)
            }
            if !lines.isEmpty { print(lines.joined(separator: "\n")) }
        }
    }

    /// Appends a directory's entries in stored order (directories first, each group by name), descending into
    /// subdirectories right after their own line when `recursive`.
    static func collect(_ repo: KopiaRepository, _ dir: DirectoryEntry, prefix: String, recursive: Bool,
                        into out: inout [(path: String, entry: DirectoryEntry)]) async throws {
        let listing = try await repo.directory(dir)
        for e in listing.entries {
            out.append((prefix + e.name, e))
            if recursive, e.type == .directory {
                try await collect(repo, e, prefix: prefix + e.name + "/", recursive: true, into: &out)
            }
        }
    }
}

/// The JSON form of one entry in `ferry ls --json`.
struct EntryJSON: Encodable {
    let path: String
    let name: String
    let type: String
    let mode: String
    let size: Int64
    let mtime: String
    let uid: UInt32
    let gid: UInt32
    let object: String
    let symlinkTarget: String?

    init(path: String, entry: DirectoryEntry, symlinkTarget: String?) {
        self.path = path
        name = entry.name
        type = entry.type.description
        mode = entry.permissions.description
        size = entry.size
        mtime = entry.modified.description
        uid = entry.uid
        gid = entry.gid
        object = entry.objectID.description
        self.symlinkTarget = symlinkTarget
    }
}
