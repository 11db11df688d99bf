/// POSIX permission bits of an entry (07777: rwx for user/group/other plus setuid 04000, setgid 02000,
/// sticky 01000), converted from the Go `os.FileMode` bits Kopia stores (kopia-format.md §12.1, pitfall g).
public struct FilePermissions: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue & 0o7777
    }

    /// Go's setuid (1<<23), setgid (1<<22) and sticky (1<<20) bits become S_ISUID, S_ISGID and S_ISVTX; other
    /// Go type bits are ignored.
    public init(goMode: UInt32) {
        var posix = goMode & 0o777
        if goMode & (1 << 23) != 0 { posix |= 0o4000 }
        if goMode & (1 << 22) != 0 { posix |= 0o2000 }
        if goMode & (1 << 20) != 0 { posix |= 0o1000 }
        self.init(rawValue: posix)
    }

    /// Parses Kopia's mode text: octal with a leading `0`, e.g. `"0755"`, `"020000775"` (setgid directory).
    /// - Throws: `KopiaError` `.invalidDirectory` for text that is not octal.
    public init(kopiaMode text: String) throws(KopiaError) {
        guard !text.isEmpty, text.utf8.count <= 12, let go = UInt32(text, radix: 8) else {
            throw KopiaError(.invalidDirectory, "mode \"\(text)\" is not an octal number")
        }
        self.init(goMode: go)
    }

    /// The Go mode bits for these permissions (the inverse of `init(goMode:)`).
    public var goMode: UInt32 {
        var go = rawValue & 0o777
        if rawValue & 0o4000 != 0 { go |= 1 << 23 }
        if rawValue & 0o2000 != 0 { go |= 1 << 22 }
        if rawValue & 0o1000 != 0 { go |= 1 << 20 }
        return go
    }

    /// Four octal digits, e.g. `0755`, `2775`.
    public var description: String {
        let s = String(rawValue, radix: 8)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// `ls -l` form without the type letter: `rwxr-sr-x`, `rw-r--r--`, `rwxrwxrwt`.
    public var symbolic: String {
        var out = ""
        let triples: [(UInt32, UInt32, Character, Character)] = [
            (0o700, 0o4000, "s", "S"), (0o070, 0o2000, "s", "S"), (0o007, 0o1000, "t", "T"),
        ]
        for (shift, (mask, special, setX, setNoX)) in zip([6, 3, 0], triples) {
            let bits = (rawValue & mask) >> UInt32(shift)
            out.append(bits & 4 != 0 ? "r" : "-")
            out.append(bits & 2 != 0 ? "w" : "-")
            let x = bits & 1 != 0
            if rawValue & special != 0 { out.append(x ? setX : setNoX) } else { out.append(x ? "x" : "-") }
        }
        return out
    }
}
