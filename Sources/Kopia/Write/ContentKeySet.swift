/// The content IDs a writer session has stored, in a flat open-addressing table of index keys
/// (`[prefix] ‖ hash`, kopia-format.md §3.2): ≈ 1.3–2.7 × keySize bytes per ID, where a `Set<ContentID>` costs a
/// heap-allocated hash array plus a set slot (≈ 90 bytes at 16-byte hashes). At a million new files that was
/// ~90 MiB of a backup's peak (issue 16).
///
/// Content hashes are keyed (HMAC or keyed BLAKE) and so uniformly spread: the slot is taken straight from the
/// hash's first bytes, probing linearly. IDs whose hash length differs from the first one's (never, within one
/// repository) go to a small ordinary set. Not thread-safe: the writer keeps it under its lock.
struct ContentKeySet {
    private var keySize = 0
    private var keys: [UInt8] = []
    private var occupied: [UInt64] = []
    private var mask = 0
    private var stored = 0
    private var other: Set<ContentID> = []

    init() {}

    var count: Int { stored + other.count }

    func contains(_ id: ContentID) -> Bool {
        guard id.hash.count + 1 == keySize else { return other.contains(id) }
        return find(id).found
    }

    /// Adds `id`; returns false when it was already there.
    @discardableResult
    mutating func insert(_ id: ContentID) -> Bool {
        if keySize == 0 && !id.hash.isEmpty {
            keySize = id.hash.count + 1
            resize(slots: 1 << 10)
        }
        guard id.hash.count + 1 == keySize else { return other.insert(id).inserted }
        if (stored + 1) * 4 > (mask + 1) * 3 { resize(slots: (mask + 1) * 2) }
        let (found, slot) = find(id)
        if found { return false }
        store(id, at: slot)
        stored += 1
        return true
    }

    private func start(_ id: ContentID) -> Int {
        var h = 0
        for b in id.hash.prefix(8) { h = h << 8 | Int(b) }
        return (h ^ Int(id.prefix)) & mask
    }

    private func isOccupied(_ slot: Int) -> Bool { occupied[slot >> 6] & (1 << UInt64(slot & 63)) != 0 }

    /// The slot holding `id`, or the empty slot where it would go.
    private func find(_ id: ContentID) -> (found: Bool, slot: Int) {
        guard mask > 0 else { return (false, 0) }
        var slot = start(id)
        return keys.withUnsafeBytes { k in
            id.hash.withUnsafeBytes { h in
                while isOccupied(slot) {
                    let base = slot * keySize
                    if k[base] == id.prefix && (0..<h.count).allSatisfy({ k[base + 1 + $0] == h[$0] }) {
                        return (true, slot)
                    }
                    slot = (slot + 1) & mask
                }
                return (false, slot)
            }
        }
    }

    private mutating func store(_ id: ContentID, at slot: Int) {
        let base = slot * keySize
        keys[base] = id.prefix
        keys.withUnsafeMutableBytes { k in
            id.hash.withUnsafeBytes { h in
                UnsafeMutableRawBufferPointer(rebasing: k[base + 1..<base + keySize]).copyMemory(from: h)
            }
        }
        occupied[slot >> 6] |= 1 << UInt64(slot & 63)
    }

    private mutating func resize(slots: Int) {
        let oldKeys = keys
        let oldOccupied = occupied
        let oldSlots = mask + 1
        keys = [UInt8](repeating: 0, count: slots * keySize)
        occupied = [UInt64](repeating: 0, count: (slots + 63) / 64)
        mask = slots - 1
        guard oldSlots > 1 else { return }
        for slot in 0..<oldSlots where oldOccupied[slot >> 6] & (1 << UInt64(slot & 63)) != 0 {
            let base = slot * keySize
            let id = ContentID(prefix: oldKeys[base], hash: Array(oldKeys[base + 1..<base + keySize]))
            store(id, at: find(id).slot)
        }
    }
}
