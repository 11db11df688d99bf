/// A content's identity: an optional one-letter prefix (`g`…`z`; `k` directory, `x` indirect list,
/// `m` manifest) and the hash bytes (kopia-format.md §3.2).
///
/// Ordering is the bytewise order of the index key `[prefix or 0x00] ‖ hash`, so un-prefixed IDs sort first.
public struct ContentID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The prefix character as an ASCII byte, or 0 when there is none.
    public let prefix: UInt8
    public let hash: [UInt8]

    public init(prefix: UInt8 = 0, hash: [UInt8]) {
        self.prefix = prefix
        self.hash = hash
    }

    /// Parses the string form (`[prefix]hex`). Returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return nil }
        var hexPart = Substring(text)
        var prefix: UInt8 = 0
        if utf8.count % 2 == 1 {
            let first = utf8[0]
            guard first >= UInt8(ascii: "g"), first <= UInt8(ascii: "z") else { return nil }
            prefix = first
            hexPart = hexPart.dropFirst()
        }
        guard hexPart.utf8.count >= 2, let hash = Hex.decode(hexPart),
              hexPart.utf8.allSatisfy({ $0 < UInt8(ascii: "A") || $0 > UInt8(ascii: "F") })
        else { return nil }
        self.prefix = prefix
        self.hash = hash
    }

    public var hasPrefix: Bool { prefix != 0 }

    /// The string form, e.g. `k775264b8fc7e19ceeed7b791c9750a69`.
    public var description: String {
        (prefix == 0 ? "" : String(UnicodeScalar(prefix))) + Hex.encode(hash)
    }

    /// The binary index key: `[prefix or 0x00] ‖ hash`.
    public var indexKey: [UInt8] { [prefix] + hash }

    /// The 16-byte IV used to encrypt this content: the last 16 bytes of the hash (kopia-format.md §3.3).
    public var iv: [UInt8] { hash.count <= 16 ? hash : Array(hash.suffix(16)) }

    public static func < (lhs: ContentID, rhs: ContentID) -> Bool {
        if lhs.prefix != rhs.prefix { return lhs.prefix < rhs.prefix }
        return lhs.hash.lexicographicallyPrecedes(rhs.hash)
    }
}
