internal import Foundation

/// How requests to an Azure storage account are authorized (kopia-format.md §18.3, §18.4).
///
/// Never printed: `description` names the kind only (and the SAS's expiry and permissions, which are not secret);
/// the account key and the SAS signature never appear in messages, logs or `--json` output.
public enum AzureCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Shared Key: every request signed with HMAC-SHA256 under the decoded account key.
    case sharedKey(key: [UInt8])
    /// A SAS token (query string, without a leading `?`), appended to every request; nothing is signed.
    case sas(token: String)

    /// Decodes a Base64 account key. `source` names the variable for the message.
    /// - Throws: `KopiaError.invalidArgument` when the key is not Base64 (the key itself is not shown).
    public static func sharedKey(base64 text: String, source: String) throws(KopiaError) -> AzureCredentials {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), !data.isEmpty else {
            throw KopiaError(.invalidArgument, "\(source) is not a Base64 storage account key")
        }
        return .sharedKey(key: [UInt8](data))
    }

    /// A SAS token as pasted: a leading `?` is dropped (kopia would send `??`, §18.4).
    public static func sas(_ text: String) -> AzureCredentials {
        var t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        while t.hasPrefix("?") { t.removeFirst() }
        return .sas(token: t)
    }

    public var description: String {
        switch self {
        case .sharedKey: return "shared key <redacted>"
        case .sas(let token):
            let fields = token.split(separator: "&").compactMap { pair -> String? in
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, ["sp", "se", "sv"].contains(String(parts[0])) else { return nil }
                return "\(parts[0])=\(String(parts[1]).removingPercentEncoding ?? String(parts[1]))"
            }
            return "SAS token (\(fields.joined(separator: ", ")), signature <redacted>)"
        }
    }

    public var debugDescription: String { description }
}
