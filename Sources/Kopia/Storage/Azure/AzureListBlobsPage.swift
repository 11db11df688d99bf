internal import Foundation

/// One page of a List Blobs answer (`EnumerationResults`; kopia-format.md §18.3): per blob `Name`,
/// `Properties/Content-Length`, `Properties/Last-Modified` (RFC 1123) and `Metadata`, plus `NextMarker` (empty or
/// absent on the last page). A `kopiamtime` metadata value (Unix nanoseconds; name matched case-insensitively)
/// replaces `Last-Modified`. Parsed with the bounds-checked `S3XMLElement`.
struct AzureListBlobsPage: Sendable, Equatable {
    struct Blob: Sendable, Equatable {
        var name: String
        var size: Int64
        var modified: Date?
    }

    var blobs: [Blob]
    var nextMarker: String?

    static let mtimeKey = "kopiamtime"

    static func parse(_ body: [UInt8]) throws(KopiaError) -> AzureListBlobsPage {
        let root: S3XMLElement
        do {
            root = try S3XMLElement.parse(body)
        } catch {
            throw KopiaError(.storageFailure, "Azure returned a List Blobs answer that is not XML: \(error)")
        }
        guard root.name == "EnumerationResults" else {
            throw KopiaError(.storageFailure, "Azure List Blobs answer has root <\(root.name)>, not <EnumerationResults>")
        }
        var blobs: [Blob] = []
        for blob in root.child("Blobs")?.children("Blob") ?? [] {
            guard let name = blob.value("Name"), let lengthText = blob.child("Properties")?.value("Content-Length"),
                  let size = Int64(lengthText), size >= 0 else {
                throw KopiaError(.storageFailure, "Azure List Blobs answer has a blob without a name or valid length")
            }
            var modified = blob.child("Properties")?.value("Last-Modified").flatMap(S3Storage.httpDate)
            if let nanos = mtime(blob.child("Metadata")?.children.map { ($0.name, $0.text) } ?? []) {
                modified = nanos
            }
            blobs.append(Blob(name: name, size: size, modified: modified))
        }
        let marker = root.value("NextMarker").flatMap { $0.isEmpty ? nil : $0 }
        return AzureListBlobsPage(blobs: blobs, nextMarker: marker)
    }

    /// kopia's mtime from metadata pairs (`x-ms-meta-kopiamtime` headers or `<Metadata>` children).
    static func mtime(_ pairs: [(String, String)]) -> Date? {
        guard let value = pairs.first(where: { $0.0.caseInsensitiveCompare(mtimeKey) == .orderedSame })?.1,
              let nanos = Int64(value.trimmingCharacters(in: .whitespaces)) else { return nil }
        return Date(timeIntervalSince1970: Double(nanos) / 1e9)
    }
}
