internal import Foundation

/// Where a repository lives in Google Cloud Storage: a bucket and an object-name prefix (kopia-format.md §18.1).
///
/// Parsed from `gcs://bucket[/prefix]`, the form VolSync's documentation shows for `KOPIA_REPOSITORY`. The prefix is
/// normalised like VolSync's S3 rule (§14, §18.6): `//` collapses, a leading `/` is dropped and a non-empty prefix
/// ends with `/`. Object name = prefix + blob ID, byte for byte (no sharding, no `.f`).
public struct GCSLocation: Sendable, Hashable, CustomStringConvertible {
    public var bucket: String
    public var prefix: String

    /// Makes a location; `prefix` is used verbatim.
    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// `gcs://bucket/prefix`: the display form (no credentials).
    public var description: String { "gcs://\(bucket)/\(prefix)" }

    /// Whether `text` names a GCS location (`gcs://…`; kopia's CLI also calls it `gs://` in messages, accepted too).
    public static func isGCSURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("gcs://") || lower.hasPrefix("gs://")
    }

    /// Parses `gcs://bucket[/prefix]` (or `gs://`).
    /// - Throws: `KopiaError.invalidArgument` when the scheme is wrong, the bucket is not a valid GCS bucket name
    ///   (3–222 characters of lowercase letters, digits, `-`, `_` and `.`, starting and ending alphanumeric), or
    ///   the text holds credentials or a port.
    public static func parse(_ text: String) throws(KopiaError) -> GCSLocation {
        guard isGCSURL(text) else {
            throw KopiaError(.invalidArgument, "not a GCS repository URL (want gcs://bucket/prefix): \(text)")
        }
        let rest = String(text.drop { $0 != ":" }.dropFirst(3))
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count))
        if bucket.contains("@") || bucket.contains(":") {
            throw KopiaError(.invalidArgument,
                             "a GCS repository URL takes no credentials or port; use GOOGLE_APPLICATION_CREDENTIALS and STORAGE_EMULATOR_HOST")
        }
        guard isValidBucketName(bucket) else {
            throw KopiaError(.invalidArgument,
                             "invalid GCS bucket name \"\(bucket)\" (3-222 lowercase letters, digits, '-', '_', '.'): \(text)")
        }
        return GCSLocation(bucket: bucket, prefix: S3Location.normalise(prefix: prefix))
    }

    /// GCS bucket naming rules (the subset needed to build a URL safely).
    static func isValidBucketName(_ name: String) -> Bool {
        guard (3...222).contains(name.utf8.count) else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        let allowed = name.utf8.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: ".") }
        guard allowed, let first = name.utf8.first, let last = name.utf8.last else { return false }
        return alnum(first) && alnum(last)
    }
}
