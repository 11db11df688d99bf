internal import Foundation

/// Where a repository lives in S3: a bucket and a key prefix (kopia-format.md §1.3).
///
/// Parsed from `s3://bucket[/prefix]`, the form of VolSync's `KOPIA_REPOSITORY`. The prefix is normalised as VolSync
/// normalises it (kopia-format.md §14): `//` collapses to `/`, a leading `/` is dropped and a non-empty prefix ends
/// with `/`. Object key = prefix + blob ID.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public var bucket: String
    public var prefix: String

    /// Makes a location; `prefix` is used verbatim (callers that want VolSync's normalisation use `parse`).
    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// `s3://bucket/prefix/`: the display form, without credentials or endpoint.
    public var description: String { "s3://\(bucket)/\(prefix)" }

    /// Whether `text` names an S3 location (`s3://…`).
    public static func isS3URL(_ text: String) -> Bool { text.lowercased().hasPrefix("s3://") }

    /// Parses `s3://bucket[/prefix]`.
    /// - Throws: `KopiaError.invalidArgument` when the scheme is not `s3`, the bucket is empty or not a valid S3
    ///   bucket name (3–63 characters of lowercase letters, digits, `.` and `-`), or the text holds credentials.
    public static func parse(_ text: String) throws(KopiaError) -> S3Location {
        guard isS3URL(text) else {
            throw KopiaError(.invalidArgument, "not an S3 repository URL (want s3://bucket/prefix): \(text)")
        }
        let rest = String(text.dropFirst(5))
        let bucket: String
        var prefix: String
        if let slash = rest.firstIndex(of: "/") {
            bucket = String(rest[..<slash])
            prefix = String(rest[rest.index(after: slash)...])
        } else {
            bucket = rest
            prefix = ""
        }
        if bucket.contains("@") || bucket.contains(":") {
            throw KopiaError(.invalidArgument,
                             "an S3 repository URL takes no credentials or port; use AWS_ACCESS_KEY_ID and AWS_S3_ENDPOINT")
        }
        guard isValidBucketName(bucket) else {
            throw KopiaError(.invalidArgument,
                             "invalid S3 bucket name \"\(bucket)\" (3-63 lowercase letters, digits, '.', '-'): \(text)")
        }
        return S3Location(bucket: bucket, prefix: normalise(prefix: prefix))
    }

    /// VolSync's prefix normalisation: collapse `//`, drop a leading `/`, end a non-empty prefix with `/`.
    public static func normalise(prefix: String) -> String {
        var p = prefix
        while p.contains("//") { p = p.replacingOccurrences(of: "//", with: "/") }
        while p.hasPrefix("/") { p.removeFirst() }
        if !p.isEmpty && !p.hasSuffix("/") { p += "/" }
        return p
    }

    /// S3's bucket naming rules (the subset a reader must check to build a URL safely).
    static func isValidBucketName(_ name: String) -> Bool {
        guard (3...63).contains(name.utf8.count) else { return false }
        let allowed = name.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
                || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
        guard allowed, let first = name.utf8.first, let last = name.utf8.last else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        return alnum(first) && alnum(last)
    }
}
