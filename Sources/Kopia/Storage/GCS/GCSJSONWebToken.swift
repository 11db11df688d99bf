/// The JWT a service account signs to obtain an access token (RFC 7523 bearer assertion; kopia-format.md §18.5).
///
/// Layout: base64url(header) `.` base64url(claims) `.` base64url(RS256 signature over the first two parts), no
/// padding. Header `{"alg":"RS256","typ":"JWT","kid":<private_key_id>}`; claims in golang/oauth2's order
/// `{"iss","scope","aud","exp","iat"}` with `iat` = now − 10 s and `exp` = `iat` + 1 h, as `jwt.go` sets them
/// against clock skew. Pure apart from the signer.
enum GCSJSONWebToken {
    /// How far `iat` is set back, and the assertion's lifetime.
    static let clockSkew: Int64 = 10
    static let lifetime: Int64 = 3600

    /// The unsigned `header.claims` text for `key` at `now` (seconds since the Unix epoch).
    static func signingInput(key: GCSServiceAccountKey, scopes: [String], now: Int64) -> String {
        var header = "{\"alg\":\"RS256\",\"typ\":\"JWT\""
        if let kid = key.privateKeyID, !kid.isEmpty { header += ",\"kid\":\(jsonString(kid))" }
        header += "}"
        let iat = now - clockSkew
        let claims = "{\"iss\":\(jsonString(key.clientEmail)),\"scope\":\(jsonString(scopes.joined(separator: " "))),"
            + "\"aud\":\(jsonString(key.tokenURI)),\"exp\":\(iat + lifetime),\"iat\":\(iat)}"
        return base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
    }

    /// The signed assertion.
    static func assertion(key: GCSServiceAccountKey, signer: RSASHA256Signer, scopes: [String], now: Int64)
        throws(KopiaError) -> String
    {
        let input = signingInput(key: key, scopes: scopes, now: now)
        return input + "." + base64URL(try signer.sign(Array(input.utf8)))
    }

    /// RFC 4648 §5 base64url without padding.
    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Base64.encode(bytes)
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }

    /// A JSON string literal (RFC 8259: `"` `\` and control characters escaped).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
