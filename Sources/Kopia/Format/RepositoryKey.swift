/// The key a repository's password derives for that one repository — kopia's `formatKey`, the output of the
/// password KDF (scrypt 64 MiB or PBKDF2) over the repository's `uniqueID` (kopia-format.md §2.2).
///
/// Holding it opens this repository exactly as the password does, without the memory-hard derivation, and without
/// the password itself (which may open other repositories too, and cannot be recovered from the key). Ferry's
/// controller derives it once when it opens a repository and hands it to the populator pod in place of the
/// password (in the same short-lived Secret in the work namespace, never elsewhere), so the pod skips scrypt.
///
/// `description` never shows the key. Text form (``encoded``): `v1:<keyAlgorithm>:<uniqueID hex>:<key hex>`.
public struct RepositoryKey: Sendable, Hashable, CustomStringConvertible {
    /// The environment variable (and populator Secret key) that carries ``encoded`` to `ferry populate`.
    public static let environmentKey = "FERRY_KOPIA_REPOSITORY_KEY"

    /// The KDF that produced it (`scrypt-65536-8-1`, …), as `kopia.repository` names it.
    public let keyAlgorithm: String
    /// The repository's `uniqueID` (the KDF's salt): the key opens only the repository with this ID.
    public let uniqueID: [UInt8]
    let bytes: [UInt8]

    init(keyAlgorithm: String, uniqueID: [UInt8], bytes: [UInt8]) {
        self.keyAlgorithm = keyAlgorithm
        self.uniqueID = uniqueID
        self.bytes = bytes
    }

    /// Parses ``encoded``.
    /// - Throws: `KopiaError` `.invalidArgument` saying what is malformed (never echoing the key).
    public init(encoded text: String) throws(KopiaError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", !parts[1].isEmpty,
              let id = Hex.decode(parts[2]), !id.isEmpty, let key = Hex.decode(parts[3]), key.count == 32
        else {
            throw KopiaError(.invalidArgument, "a repository key must read v1:<key algorithm>:<uniqueID hex>:<32-byte key hex>")
        }
        self.init(keyAlgorithm: String(parts[1]), uniqueID: id, bytes: key)
    }

    public var encoded: String { "v1:\(keyAlgorithm):\(Hex.encode(uniqueID)):\(Hex.encode(bytes))" }

    public var description: String { "key for repository \(Hex.encode(uniqueID.prefix(8))) (hidden)" }
}
