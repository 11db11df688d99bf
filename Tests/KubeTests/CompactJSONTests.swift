import Foundation
import Kube
import Testing

struct CompactJSONTests {
    static let unicode = "Zürich — 東京 🚢 e\u{301} \u{0}nul \"quoted\" \\ back\nslash\t\u{7f}\u{ffff}\u{10ffff}"

    static func claimJSON() throws -> JSONValue {
        try JSONCoding.parse("""
            {"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data-postgres-0","namespace":"team-a",
             "uid":"4f2b6c1e-8d3a-4b7e-9f10-2a6c8e4d1b3f","resourceVersion":"1234567","generation":1,
             "creationTimestamp":"2026-12-05T05:39:00Z","labels":{"app":"postgres","index":"0"},
             "annotations":{"pv.kubernetes.io/bind-completed":"yes"},"finalizers":["kubernetes.io/pvc-protection"]},
             "spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"fast","volumeMode":"Filesystem",
              "resources":{"requests":{"storage":"1Gi"}},"volumeName":"pvc-4f2b6c1e-8d3a-4b7e-9f10-2a6c8e4d1b3f",
              "dataSourceRef":{"apiGroup":"ferry.io","kind":"DataSourceLink","name":"nightly"}},
             "status":{"phase":"Bound","capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"]}}
            """)
    }

    @Test func roundTripIsExactForEveryKindOfValue() throws {
        let value: JSONValue = [
            "null": nil, "true": true, "false": false,
            "ints": [0, 1, -1, 63, -64, 64, 127, 128, 300, .int(Int64.max), .int(Int64.min), .int(Int64.max - 1)],
            "doubles": [1.0, -0.0, 0.5, 1e300, -2.5e-308, .double(.infinity), .double(-.infinity), .double(.leastNonzeroMagnitude)],
            "strings": ["", "v1", "metadata", "not-a-known-string", .string(Self.unicode), .string(String(repeating: "x", count: 200))],
            "nested": [[[[]]], [:], ["a": [["b": ["c": "d"]]]]],
            Self.unicode: "a key that is not ASCII",
            "": "empty key",
        ]
        let packed = CompactJSON(value)
        let back = try packed.decode()
        #expect(back == value)
        // Kinds survive: 1.0 stays a double (JSON text would turn it into the integer 1), -0.0 keeps its sign.
        let doubles = back.object?["doubles"]?.array ?? []
        #expect(doubles.first == .double(1.0))
        if case .double(let z) = doubles.dropFirst().first { #expect(z.bitPattern == (-0.0).bitPattern) } else { Issue.record("-0.0 lost") }
        #expect(back.object?["ints"]?.array?.last == .int(Int64.max - 1))
    }

    @Test func nanKeepsItsBitPattern() throws {
        let nan = Double(nan: 0x1234, signaling: false)
        guard case .double(let d) = try CompactJSON(.double(nan)).decode() else { Issue.record("not a double"); return }
        #expect(d.bitPattern == nan.bitPattern)
    }

    @Test func largeValuesRoundTrip() throws {
        var members = JSONObject()
        for i in 0..<10_000 { members["key-\(i)"] = .string("value \(i) \(Self.unicode)") }
        let big: JSONValue = ["members": .object(members), "blob": .string(String(repeating: "ü🚢", count: 300_000))]
        let packed = CompactJSON(big)
        #expect(try packed.decode() == big)
        #expect(packed.byteCount > 2_100_000)  // 300,000 × (2 + 4) bytes of UTF-8 plus the members
    }

    @Test func aClaimPacksIntoAFractionOfItsTextSize() throws {
        let claim = try Self.claimJSON()
        let packed = CompactJSON(claim)
        #expect(try packed.decode() == claim)
        let text = JSONCoding.serialize(claim).count
        #expect(packed.byteCount < text * 2 / 3, "packed \(packed.byteCount) bytes, JSON text \(text) bytes")
        // Exactly sized: no spare capacity kept around in the cache.
        #expect(packed.bytes.capacity < packed.byteCount + 32)
    }

    @Test func everyTruncationAndCorruptionIsAnErrorNotATrap() throws {
        let bytes = CompactJSON(try Self.claimJSON()).bytes
        for n in 0..<bytes.count {
            #expect(throws: CompactJSON.DecodingError.self) { try CompactJSON(bytes: Array(bytes.prefix(n))).decode() }
        }
        #expect(throws: CompactJSON.DecodingError.self) { try CompactJSON(bytes: bytes + [0]).decode() }
        // Flipping any byte either still decodes (to something) or throws; nothing traps.
        var rng = SystemRandomNumberGenerator()
        for i in 0..<bytes.count {
            var b = bytes
            b[i] = UInt8.random(in: 0...255, using: &rng)
            _ = try? CompactJSON(bytes: b).decode()
        }
        for _ in 0..<2_000 {
            let junk = (0..<Int.random(in: 0...64)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? CompactJSON(bytes: junk).decode()
        }
        // A huge length or count is refused before anything is allocated for it.
        #expect(throws: CompactJSON.DecodingError.self) { try CompactJSON(bytes: [5, 0xff, 0xff, 0xff, 0xff, 0x0f]).decode() }
        #expect(throws: CompactJSON.DecodingError.self) { try CompactJSON(bytes: [7, 0xff, 0xff, 0xff, 0xff, 0x0f]).decode() }
        #expect(throws: CompactJSON.DecodingError.self) { try CompactJSON(bytes: Array(repeating: 7, count: 2_000)).decode() }
    }
}
