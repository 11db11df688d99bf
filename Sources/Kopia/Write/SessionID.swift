public import Foundation

/// Writer session IDs and random blob names (kopia-format.md §1.1; kopia/kopia `repo/content/sessions.go`).
///
/// A session ID is `s` + 16 hex (8 random bytes) + hex(month number), month number =
/// floor((now − 2000-01-01T00:00Z) / 30 days): `s881e3f584eb1fd59147` was written in November 2026 (0x147 = 327).
/// Every pack and index blob of one writer session carries it as its `-<sessionID>` suffix.
public enum SessionID {
    /// 2000-01-01T00:00:00Z in Unix seconds.
    static let epoch2000: Int64 = 946_684_800

    /// A new session ID for a writer starting at `now`.
    public static func make(now: Date = Date(), random: [UInt8]? = nil) -> String {
        let bytes = random ?? (0..<8).map { _ in UInt8.random(in: 0...255) }
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        let month = max(0, (seconds - epoch2000) / (30 * 86_400))
        return "s" + Hex.encode(bytes) + String(month, radix: 16)
    }

    /// A pack blob ID: `p` (file data) or `q` (prefixed contents) + 32 random hex + `-` + session.
    public static func packBlobID(prefix: Character, session: String) -> String {
        String(prefix) + Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) }) + "-" + session
    }
}
