internal import Foundation

/// Where a repository lives in Azure Blob Storage: a container and a blob-name prefix (kopia-format.md §18.1, §18.3).
///
/// Parsed from `azure://container[/prefix]`, the form VolSync's documentation shows. The prefix is normalised like
/// VolSync's S3 rule (`//` collapses, no leading `/`, a non-empty prefix ends with `/`). Blob name = prefix + blob
/// ID (no sharding). The storage account is not part of the URL: it comes from the environment.
public struct AzureLocation: Sendable, Hashable, CustomStringConvertible {
    public var container: String
    public var prefix: String

    public init(container: String, prefix: String = "") {
        self.container = container
        self.prefix = prefix
    }

    public var description: String { "azure://\(container)/\(prefix)" }

    public static func isAzureURL(_ text: String) -> Bool { text.lowercased().hasPrefix("azure://") }

    /// Parses `azure://container[/prefix]`.
    /// - Throws: `KopiaError.invalidArgument` when the scheme is wrong or the container is not a valid Azure
    ///   container name (3–63 lowercase letters, digits and single `-`, starting and ending alphanumeric).
    public static func parse(_ text: String) throws(KopiaError) -> AzureLocation {
        guard isAzureURL(text) else {
            throw KopiaError(.invalidArgument, "not an Azure repository URL (want azure://container/prefix): \(text)")
        }
        let rest = String(text.dropFirst("azure://".count))
        let container = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(container.count))
        if container.contains("@") || container.contains(":") {
            throw KopiaError(.invalidArgument,
                             "an Azure repository URL takes no account, key or port; use AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY and AZURE_STORAGE_DOMAIN")
        }
        guard isValidContainerName(container) else {
            throw KopiaError(.invalidArgument,
                             "invalid Azure container name \"\(container)\" (3-63 lowercase letters, digits, single '-'): \(text)")
        }
        return AzureLocation(container: container, prefix: S3Location.normalise(prefix: prefix))
    }

    static func isValidContainerName(_ name: String) -> Bool {
        guard (3...63).contains(name.utf8.count), !name.contains("--") else { return false }
        func alnum(_ c: UInt8) -> Bool {
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9"))
        }
        guard name.utf8.allSatisfy({ alnum($0) || $0 == UInt8(ascii: "-") }),
              let first = name.utf8.first, let last = name.utf8.last else { return false }
        return alnum(first) && alnum(last)
    }
}
