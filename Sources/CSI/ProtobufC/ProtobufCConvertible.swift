internal import CProtobufC

/// A Swift CSI value that converts to and from its protobuf-c struct (generated conformances).
protocol ProtobufCConvertible {
    associatedtype CMessage
    /// Builds the C struct tree in `arena`; valid until the arena is released.
    func lower(into arena: CArena) -> UnsafeMutablePointer<CMessage>
    /// Copies everything out of a C struct tree (which the caller still owns and frees).
    init(lifting message: UnsafePointer<CMessage>)
}

func liftString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

func liftStrings(_ count: Int, _ array: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
    guard let array, count > 0 else { return [] }
    return UnsafeBufferPointer(start: array, count: count).map(liftString)
}

func liftMessages<M: ProtobufCConvertible>(
    _ count: Int, _ array: UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?
) -> [M] {
    guard let array, count > 0 else { return [] }
    return UnsafeBufferPointer(start: array, count: count).compactMap { $0.map { M(lifting: $0) } }
}

func liftMap<Entry>(
    _ count: Int, _ array: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?,
    _ keyValue: (UnsafeMutablePointer<Entry>) -> (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<CChar>?)
) -> [String: String] {
    guard let array, count > 0 else { return [:] }
    var map: [String: String] = [:]
    for entry in UnsafeBufferPointer(start: array, count: count) {
        guard let entry else { continue }
        let (key, value) = keyValue(entry)
        map[liftString(key)] = liftString(value)  // protobuf: the last duplicate key wins
    }
    return map
}

/// Packs into a new array of exactly `size` bytes with the generated `…__pack`.
func packed(size: Int, _ pack: (UnsafeMutablePointer<UInt8>) -> Int) -> [UInt8] {
    [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        guard let base = buffer.baseAddress, size > 0 else {
            initialized = 0
            return
        }
        initialized = min(pack(base), size)
    }
}

/// Runs the generated `…__unpack`; the caller frees the result with `…__free_unpacked`.
/// - Throws: ``CSIDecodingError`` when protobuf-c rejects the bytes.
func unpacked<T>(
    _ bytes: [UInt8], _ typeName: String, _ unpack: (Int, UnsafePointer<UInt8>?) -> UnsafeMutablePointer<T>?
) throws(CSIDecodingError) -> UnsafeMutablePointer<T> {
    let message = bytes.withUnsafeBufferPointer { unpack($0.count, $0.baseAddress) }
    guard let message else { throw CSIDecodingError(messageType: "csi.v1." + typeName, byteCount: bytes.count) }
    return message
}
