import Foundation
import Kopia

/// Starting inputs per target, built with Ferry's own encoders (so the fuzzer begins past the framing).
enum FuzzSeeds {
    static func seeds(for target: FuzzTarget) -> [[UInt8]] {
        func utf8(_ s: String...) -> [[UInt8]] { s.map { Array($0.utf8) } }
        switch target {
        case .index:
            var entries: [IndexV2Encoder.Entry] = []
            for i in 0..<5 {
                let prefix: UInt8 = i == 0 ? 0 : UInt8(ascii: "k")
                let id = ContentID(prefix: prefix, hash: [UInt8](repeating: UInt8(i), count: 16))
                let pack: String = "p" + String(repeating: String(i), count: 32)
                let header: UInt32 = i == 2 ? 0x1100 : 0
                entries.append(IndexV2Encoder.Entry(
                    contentID: id, packBlobID: pack, packOffset: UInt32(i * 100), packedLength: 90, originalLength: 62,
                    timestampSeconds: 1_800_000_000, deleted: i == 3, formatVersion: 2, compressionHeaderID: header))
            }
            return [(try? IndexV2Encoder.encode(entries)) ?? [2], [1, 255, 0, 20, 0, 0, 0, 0]]
        case .directory:
            return utf8(#"{"stream":"kopia:directory","entries":[{"name":"a.txt","type":"f","mode":"0644","mtime":"2026-11-20T23:52:17.969182578-07:00","uid":1000,"gid":1000,"obj":"k0123456789abcdef0123456789abcdef","size":"12"},{"name":"d","type":"d","obj":"kabc0123456789abcdef0123456789ab","summ":{"size":5}}],"summary":{"size":12}}"#)
        case .manifest:
            return utf8(#"{"entries":[{"id":"e89466437067fceda9767a7212f8c974","labels":{"type":"snapshot","hostname":"h","username":"u","path":"/data"},"mod":"2026-11-21T00:00:49.843428707Z","data":{"source":{"host":"h","userName":"u","path":"/data"},"startTime":"2026-11-21T00:00:49.840950734Z","endTime":"2026-11-21T00:00:49.843428707Z","rootEntry":{"name":"data","type":"d","obj":"k0123456789abcdef0123456789abcdef"}}}]}"#)
        case .format:
            return utf8(#"{"tool":"https://github.com/kopia/kopia","buildVersion":"0.22.3","uniqueID":"AAAA","keyAlgo":"scrypt-65536-8-1","encryption":"AES256_GCM","encryptedBlockFormat":"AAAA"}"#,
                        #"{"format":{"hash":"BLAKE2B-256-128","encryption":"AES256-GCM-HMAC-SHA256","version":3,"maxPackSize":20971520,"indexVersion":2,"epochParameters":{"Enabled":true},"splitter":"DYNAMIC-4M-BUZHASH","ecc":"REED-SOLOMON-CRC32","eccOverheadPercent":2}}"#,
                        #"{"shards":[1,3],"overrides":[]}"#)
        case .codecs:
            let text = Array(String(repeating: "kopia content ", count: 64).utf8)
            return CompressionAlgorithm.allCases.enumerated().compactMap { i, a in
                guard a != .lz4, let c = try? Compression.compress(text, using: a) else { return nil }
                return [UInt8(i)] + Array(c.dropFirst(4))
            }
        case .ecc:
            let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let ecc = try? ErrorCorrection(name: ErrorCorrection.reedSolomonCRC32, overheadPercent: 2)
            return [(try? ecc?.encode(data)) ?? nil].compactMap { $0 }
        case .objectid:
            return utf8("IIx339ea08198e8c59d1502c1e7fa3d4f74", "Zk0123456789abcdef0123456789abcdef", "u@h:/data",
                        "s3://bucket/prefix", #"{"stream":"kopia:indirect","entries":[{"l":5,"o":"k0123456789abcdef0123456789abcdef"}]}"#)
        case .time:
            return utf8("2026-11-20T23:52:17.969182578-07:00", "9999-12-31T23:59:59Z", "2026-10-21T10:00:48.306Z")
        case .kubejson:
            return utf8(#"{"kind":"Status","code":410,"reason":"Expired","details":{"causes":[{"field":"a"}]},"n":[1,2.5,-0,1e30,"\u00e9",true,null]}"#)
        case .watch:
            return utf8("\u{3}\u{11}" + #"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}}"# + "\n"
                            + #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"8"}}}"#,
                        "\u{1}\u{5}" + #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}"#)
        case .s3xml:
            return utf8(#"<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;</NextContinuationToken><Contents><Key>p1</Key><Size>12</Size><LastModified>2026-10-21T10:00:48.306Z</LastModified></Contents></ListBucketResult>"#,
                        "<Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region></Error>")
        case .epochs:
            return utf8("xe0\nxe3\nxw1700000000\nxs0_aa-s1-c1\nxs1_bb-s2-c2\nxs1_bc-s2-c2\nxr0_1_x-s3-c1\nxn2_00\nxn3_01")
        }
    }

    static func write(_ target: FuzzTarget, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (i, seed) in seeds(for: target).enumerated() {
            try Data(seed).write(to: URL(fileURLWithPath: directory).appendingPathComponent("seed-\(i)"))
        }
    }
}
