/// A content encryption algorithm of the repository config's `encryption` field (kopia-format.md §4.2).
public enum EncryptionAlgorithm: String, CaseIterable, Sendable {
    case aes256GCMHMACSHA256 = "AES256-GCM-HMAC-SHA256"
    case chacha20Poly1305HMACSHA256 = "CHACHA20-POLY1305-HMAC-SHA256"

    /// Parses an `encryption` name exactly as Kopia spells it.
    /// - Throws: `KopiaError.unknownAlgorithm` naming the value (the pre-0.9 unauthenticated ones included).
    public init(name: String) throws {
        guard let algorithm = EncryptionAlgorithm(rawValue: name) else {
            throw KopiaError(.unknownAlgorithm, "unknown encryption algorithm \"\(name)\" (known: "
                + EncryptionAlgorithm.allCases.map(\.rawValue).joined(separator: ", ") + ")")
        }
        self = algorithm
    }

    func fetchedCipher() throws(KopiaError) -> FetchedCipher {
        switch self {
        case .aes256GCMHMACSHA256: try FetchedCipher.aes256GCM.get()
        case .chacha20Poly1305HMACSHA256: try FetchedCipher.chacha20Poly1305.get()
        }
    }
}
