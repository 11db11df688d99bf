public import Kopia

/// Builds manifest contents (gzip'd `{"entries":[…]}`, kopia-format.md §10) for in-memory repositories.
public enum ManifestBuilder {
    /// One entry as JSON text. `data` is raw JSON text (nil = no data, as in tombstones).
    public static func entry(id: String, labels: [String: String], modified: String, deleted: Bool = false,
                             data: String? = nil) -> String {
        let labelText = labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }
            .joined(separator: ",")
        var s = "{\"id\":\"\(id)\",\"labels\":{\(labelText)},\"modified\":\"\(modified)\""
        if deleted { s += ",\"deleted\":true" }
        if let data { s += ",\"data\":\(data)" }
        return s + "}"
    }

    /// A snapshot manifest entry like kopia 0.12 writes.
    public static func snapshot(id: String, source: SnapshotSource, start: String, end: String,
                                description: String = "", incomplete: String? = nil,
                                root: String = "k775264b8fc7e19ceeed7b791c9750a69") -> String {
        var data = "{\"id\":\"\",\"source\":{\"host\":\"\(source.host)\",\"userName\":\"\(source.userName)\","
            + "\"path\":\"\(source.path)\"},\"description\":\"\(description)\",\"startTime\":\"\(start)\","
            + "\"endTime\":\"\(end)\",\"stats\":{\"totalSize\":123,\"fileCount\":4,\"dirCount\":2},"
        if let incomplete { data += "\"incomplete\":\"\(incomplete)\"," }
        data += "\"rootEntry\":{\"name\":\"data\",\"type\":\"d\",\"mode\":\"0755\",\"mtime\":\"\(start)\","
            + "\"obj\":\"\(root)\",\"summ\":{\"size\":123,\"files\":4,\"symlinks\":0,\"dirs\":2,"
            + "\"maxTime\":\"\(start)\",\"numFailed\":0}}}"
        return entry(id: id,
                     labels: ["type": "snapshot", "hostname": source.host, "username": source.userName,
                              "path": source.path],
                     modified: end, data: data)
    }

    /// A manifest content's plaintext holding `entries`.
    public static func content(_ entries: [String]) throws -> [UInt8] {
        gzip(Array("{\"entries\":[\(entries.joined(separator: ","))]}".utf8))
    }

    /// A valid gzip member (RFC 1952) holding `data` in stored (uncompressed) deflate blocks — enough for tests,
    /// and independent of the codecs under test.
    public static func gzip(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        for v in [crc32(data), UInt32(truncatingIfNeeded: data.count)] {
            out += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)]
        }
        return out
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in data {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
