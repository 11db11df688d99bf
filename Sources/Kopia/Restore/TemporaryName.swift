/// Names Ferry gives files while they are being written, and the name checks that keep a restore inside its
/// target (kopia-format.md §12.1; ARCHITECTURE.md §2.2 "never write outside the target").
///
/// A file is written as `<prefix><index in base 36>` in its own directory and renamed to its real name only once
/// complete, so an interrupted restore never leaves a half-written file under a real name. The name is
/// deterministic for a given snapshot, so a re-run overwrites what an interrupted run left behind.
enum TemporaryName {
    static let defaultPrefix = ".ferry-partial-"

    /// The prefix for a directory holding `siblings`: the default, unless a sibling's name starts with it (then a
    /// random tag makes collisions impossible).
    static func prefix(avoiding siblings: [String]) -> String {
        guard siblings.contains(where: { $0.hasPrefix(defaultPrefix) }) else { return defaultPrefix }
        let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        return defaultPrefix + tag + "-"
    }

    /// The temporary name of the plan's file `index` (`f…`) or symlink (`l…`).
    static func name(prefix: String, index: Int, symlink: Bool = false) -> String {
        prefix + (symlink ? "l" : "f") + String(index, radix: 36)
    }

    /// Whether `name` is one path component that stays inside its directory: not empty, not `.` or `..`, no `/`,
    /// no NUL, at most 255 bytes (NAME_MAX).
    static func isSafe(_ name: String) -> Bool {
        let bytes = name.utf8
        return !bytes.isEmpty && bytes.count <= 255 && name != "." && name != ".."
            && !bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0)
    }
}
