/// The identity of an object: a content read directly, or a list of contents read through one or more levels of
/// indirection (kopia-format.md §9.1; kopia `repo/object/objectid.go`).
///
/// Grammar: `ObjectID := "I"* ["Z"] ["D"] ContentID` — the number of `I`s is the indirection depth, `Z` marks an
/// object-level compressed content (never combined with `I`), `D` is a legacy no-op marker. Examples:
/// `d9295958410ae3b73f68033274cd7a8f` (one chunk), `Ix3f…` (chunk list in an `x` content), `k18c2…` (directory),
/// `IIx…` (two levels).
public struct ObjectID: Hashable, Sendable, CustomStringConvertible {
    /// Levels of indirection (0 = the content itself holds the object's bytes).
    public let indirection: Int
    /// Whether the content holds `[u32 BE compression header][stream]` to decompress (`Z` prefix).
    public let isCompressed: Bool
    /// The content at the bottom of the indirection.
    public let contentID: ContentID

    public init(contentID: ContentID, indirection: Int = 0, isCompressed: Bool = false) {
        self.contentID = contentID
        self.indirection = max(0, indirection)
        self.isCompressed = isCompressed && indirection == 0
    }

    /// Parses an object ID string.
    /// - Throws: `KopiaError` `.invalidObjectID` with the text as `objectID`, saying what is wrong.
    public init(parsing text: some StringProtocol) throws(KopiaError) {
        let original = String(text)
        var rest = Substring(original)
        var depth = 0
        while rest.first == "I" {
            depth += 1
            rest = rest.dropFirst()
        }
        var compressed = false
        if rest.first == "Z" {
            compressed = true
            rest = rest.dropFirst()
        }
        if rest.first == "D" { rest = rest.dropFirst() }
        guard !(compressed && depth > 0) else {
            throw KopiaError(.invalidObjectID,
                             "malformed object ID: compression (Z) and indirection (I) are mutually exclusive",
                             objectID: original)
        }
        guard depth <= Self.maximumIndirection else {
            throw KopiaError(.invalidObjectID,
                             "malformed object ID: \(depth) levels of indirection (at most \(Self.maximumIndirection))",
                             objectID: original)
        }
        guard let content = ContentID(rest) else {
            let shown = original.isEmpty ? "an empty string" : "\"\(original)\""
            throw KopiaError(.invalidObjectID,
                             "\(shown) is not a Kopia object ID (expected [I…][Z][prefix]hex, e.g. "
                                 + "k775264b8fc7e19ceeed7b791c9750a69 or Ix3f…)",
                             objectID: original)
        }
        self.init(contentID: content, indirection: depth, isCompressed: compressed)
    }

    /// Indirection deeper than this is refused: real objects use one or two levels, and a bound keeps damaged
    /// data from recursing without end.
    public static let maximumIndirection = 8

    /// The string form, e.g. `Ix3f…`.
    public var description: String {
        String(repeating: "I", count: indirection) + (isCompressed ? "Z" : "") + contentID.description
    }

    /// The same object with one level of indirection removed (the object holding its chunk list).
    public var listObject: ObjectID? {
        indirection > 0 ? ObjectID(contentID: contentID, indirection: indirection - 1) : nil
    }
}

extension ObjectID: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
