/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8, and the Snappy/S2 "masked" form.
enum CRC32C {
    /// 8 × 256 tables for slicing-by-8, built once.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xff)] }
        }
        return t
    }()

    static func checksum(_ data: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        tables.withUnsafeBufferPointer { t in
            var i = 0
            let n = data.count
            while i + 8 <= n {
                let lo = data.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian ^ crc
                let hi = data.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                crc = t[7 * 256 + Int(lo & 0xff)] ^ t[6 * 256 + Int((lo >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xff)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xff)] ^ t[2 * 256 + Int((hi >> 8) & 0xff)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xff)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(data[i])) & 0xff)] ^ (crc >> 8)
                i += 1
            }
        }
        return ~crc
    }

    /// The masked CRC stored in Snappy/S2 chunks: `((crc >> 15) | (crc << 17)) + 0xa282ead8`.
    static func masked(_ data: UnsafeRawBufferPointer) -> UInt32 {
        let c = checksum(data)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
