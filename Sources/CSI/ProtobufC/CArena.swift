internal import CProtobufC

/// Owns the C memory of one hand-built protobuf-c message tree while it is packed (grpc-c.md §6: hand-built
/// messages are ours to free; never `free_unpacked` them). Everything allocated here is freed in `deinit`.
/// Single-task use only.
final class CArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    init() {}

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// Uninitialised storage for one `T`; the caller initialises it (the generated `…__init`).
    func allocate<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    private func allocateArray<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A NUL-terminated copy of `string` (an embedded NUL ends the C string early).
    func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        let utf8 = Array(string.utf8)
        let pointer = allocateArray(CChar.self, count: utf8.count + 1)
        for (index, byte) in utf8.enumerated() { pointer[index] = CChar(bitPattern: byte) }
        pointer[utf8.count] = 0
        return pointer
    }

    /// A `repeated string` field: count and array.
    func strings(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocateArray(UnsafeMutablePointer<CChar>?.self, count: values.count)
        for (index, value) in values.enumerated() { array[index] = string(value) }
        return (values.count, array)
    }

    /// A `repeated` message field: count and array of lowered messages.
    func messages<M: ProtobufCConvertible>(_ values: [M]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>?) {
        guard !values.isEmpty else { return (0, nil) }
        let array = allocateArray(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        for (index, value) in values.enumerated() { array[index] = value.lower(into: self) }
        return (values.count, array)
    }

    /// A `map<string,string>` field: entries sorted by key, so encoding is deterministic.
    func mapEntries<Entry>(
        _ map: [String: String], _: Entry.Type, _ initialise: (UnsafeMutablePointer<Entry>?) -> Void,
        _ set: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<CChar>, UnsafeMutablePointer<CChar>) -> Void
    ) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?) {
        guard !map.isEmpty else { return (0, nil) }
        let array = allocateArray(UnsafeMutablePointer<Entry>?.self, count: map.count)
        for (index, (key, value)) in map.sorted(by: { $0.key < $1.key }).enumerated() {
            let entry = allocate(Entry.self)
            initialise(entry)
            set(entry, string(key), string(value))
            array[index] = entry
        }
        return (map.count, array)
    }
}
