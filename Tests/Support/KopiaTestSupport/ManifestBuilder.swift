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
        try Compression.gzip(Array("{\"entries\":[\(entries.joined(separator: ","))]}".utf8))
    }
}
