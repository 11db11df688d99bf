/// A ``JSONValue`` packed into one exactly-sized byte buffer: the form in which a compact ``Informer`` keeps cached
/// objects (a decoded claim is a tree of dictionaries and strings, ≈ 2.8 KiB; packed it is ≈ 0.3 KiB).
///
/// The encoding is exact: decoding gives back a value equal to the one encoded (integers stay integers, doubles keep
/// their bit pattern, strings their Unicode scalars). Keys and values that occur in most Kubernetes objects
/// (`metadata`, `resourceVersion`, `PersistentVolumeClaim`, `ReadWriteOnce`, …) are stored as one-byte references to
/// a fixed table. Decoding is bounds-checked and never traps; bytes this type did not write fail with
/// ``DecodingError``.
///
/// Layout: one tag byte per value — `0` null, `1` false, `2` true, `3` integer (zigzag LEB128), `4` double (8 bytes,
/// little-endian bit pattern), `5` string (LEB128 byte count, UTF-8), `6` known string (1-byte table index), `7` array
/// (LEB128 count, values), `8` object (LEB128 count, then key and value per member; keys are tag 5 or 6).
public struct CompactJSON: Sendable {
    public private(set) var bytes: [UInt8]

    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid compact JSON at byte \(offset): \(reason)" }
    }

    /// Packs a value (exactly sized: no spare capacity is kept).
    public init(_ value: JSONValue) {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(512)
        Self.write(value, into: &scratch)
        bytes = [UInt8](unsafeUninitializedCapacity: scratch.count) { buffer, count in
            _ = buffer.initialize(fromContentsOf: scratch)
            count = scratch.count
        }
    }

    /// Packs an object.
    public init(object: JSONObject) { self.init(.object(object)) }

    /// Wraps bytes written by this type (or not: ``decode()`` checks them).
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The packed size in bytes (the heap block holding them is this plus the array header, ≈ 32 bytes).
    public var byteCount: Int { bytes.count }

    /// Unpacks the value.
    public func decode() throws(DecodingError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buf throws(DecodingError) -> JSONValue in
            var r = Reader(bytes: buf)
            let v = try r.value(depth: 0)
            guard r.i == buf.count else { throw DecodingError(offset: r.i, reason: "trailing data") }
            return v
        }
    }

    // MARK: Encoding

    private static func write(_ v: JSONValue, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .int(let i):
            out.append(3)
            writeVarint(UInt64(bitPattern: (i << 1) ^ (i >> 63)), into: &out)
        case .double(let d):
            out.append(4)
            var bits = d.bitPattern
            for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out.append(7)
            writeVarint(UInt64(a.count), into: &out)
            for e in a { write(e, into: &out) }
        case .object(let o):
            out.append(8)
            writeVarint(UInt64(o.count), into: &out)
            for (k, e) in o {
                writeString(k, into: &out)
                write(e, into: &out)
            }
        }
    }

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        if let id = KnownStrings.index[s] {
            out.append(6)
            out.append(id)
            return
        }
        out.append(5)
        var s = s
        s.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count), into: &out)
            out.append(contentsOf: utf8)
        }
    }

    private static func writeVarint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    // MARK: Decoding

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        static let maxDepth = 512

        mutating func byte() throws(DecodingError) -> UInt8 {
            guard i < bytes.count else { throw DecodingError(offset: i, reason: "truncated") }
            defer { i += 1 }
            return bytes[i]
        }

        mutating func varint() throws(DecodingError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64 else { throw DecodingError(offset: i - 1, reason: "varint too long") }
                result |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }

        /// A count or length that must fit in what is left of the buffer.
        mutating func length() throws(DecodingError) -> Int {
            let start = i
            let n = try varint()
            guard n <= UInt64(bytes.count - i) else { throw DecodingError(offset: start, reason: "length \(n) beyond the end") }
            return Int(n)
        }

        mutating func string() throws(DecodingError) -> String {
            let start = i
            switch try byte() {
            case 5:
                let n = try length()
                defer { i += n }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[i..<(i + n)]), as: UTF8.self)
            case 6:
                let id = Int(try byte())
                guard id < KnownStrings.table.count else { throw DecodingError(offset: start, reason: "unknown string \(id)") }
                return KnownStrings.table[id]
            case let tag:
                throw DecodingError(offset: start, reason: "tag \(tag) where a string was expected")
            }
        }

        mutating func value(depth: Int) throws(DecodingError) -> JSONValue {
            guard depth < Self.maxDepth else { throw DecodingError(offset: i, reason: "nested too deeply") }
            let start = i
            let tag = try byte()
            switch tag {
            case 0: return .null
            case 1: return .bool(false)
            case 2: return .bool(true)
            case 3:
                let z = try varint()
                return .int(Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1))
            case 4:
                guard bytes.count - i >= 8 else { throw DecodingError(offset: start, reason: "truncated double") }
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
                i += 8
                return .double(Double(bitPattern: bits))
            case 5, 6:
                i = start
                return .string(try string())
            case 7:
                let n = try length()
                var a: [JSONValue] = []
                a.reserveCapacity(n)
                for _ in 0..<n { a.append(try value(depth: depth + 1)) }
                return .array(a)
            case 8:
                let n = try length()
                var o = JSONObject(minimumCapacity: n)
                for _ in 0..<n {
                    let k = try string()
                    o[k] = try value(depth: depth + 1)
                }
                return .object(o)
            default:
                throw DecodingError(offset: start, reason: "unknown tag \(tag)")
            }
        }
    }
}

/// Strings most Kubernetes objects Ferry caches contain, stored as one byte by ``CompactJSON``. Append only: the
/// index of an entry is its code (the packed form lives only in memory, but tests pin a few codes).
enum KnownStrings {
    static let table: [String] = [
        "",
        // Object keys: metadata.
        "apiVersion", "kind", "metadata", "name", "namespace", "uid", "resourceVersion", "generation",
        "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "finalizers",
        "ownerReferences", "managedFields", "generateName", "selfLink", "controller", "blockOwnerDeletion",
        "manager", "operation", "time", "fieldsType", "fieldsV1", "subresource",
        // Object keys: spec and status.
        "spec", "status", "accessModes", "storageClassName", "volumeName", "volumeMode", "resources", "requests",
        "limits", "storage", "dataSource", "dataSourceRef", "apiGroup", "selector", "matchLabels",
        "matchExpressions", "key", "operator", "values", "volumeAttributesClassName", "phase", "capacity",
        "allocatedResources", "conditions", "type", "reason", "message", "lastTransitionTime", "lastProbeTime",
        "observedGeneration", "source", "persistentVolumeClaimName", "volumeSnapshotContentName",
        "volumeSnapshotClassName", "boundVolumeSnapshotContentName", "readyToUse", "restoreSize", "creationTime",
        "error", "sourceRef", "from", "to", "group", "provisioner", "parameters", "reclaimPolicy",
        "volumeBindingMode", "allowVolumeExpansion", "mountOptions", "allowedTopologies", "claimRef", "csi",
        "driver", "volumeHandle", "fsType", "volumeAttributes", "nodeAffinity", "persistentVolumeReclaimPolicy",
        // Values.
        "v1", "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "VolumeSnapshot", "VolumeSnapshotContent",
        "DataSourceLink", "ReferenceGrant", "KopiaSnapshot", "Pod", "Namespace",
        "snapshot.storage.k8s.io", "snapshot.storage.k8s.io/v1", "storage.k8s.io", "storage.k8s.io/v1",
        "gateway.networking.k8s.io", "gateway.networking.k8s.io/v1beta1", "gateway.networking.k8s.io/v1",
        "ferry.io", "ferry.io/v1alpha1",
        "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod", "Filesystem", "Block",
        "Pending", "Bound", "Lost", "Available", "Released", "Failed", "True", "False", "Unknown", "Ready", "Granted",
        "Update", "Apply", "FieldsV1", "Delete", "Retain", "Immediate", "WaitForFirstConsumer",
        "kubernetes.io/pvc-protection", "kubernetes.io/pv-protection", "ferry.io/source-protection",
        "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller", "pv.kubernetes.io/provisioned-by",
        "volume.beta.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-provisioner",
        "volume.kubernetes.io/selected-node", "kube-controller-manager", "kubectl-client-side-apply", "kubectl-create",
        "kubectl", "yes",
    ]
    static let index: [String: UInt8] = {
        var d: [String: UInt8] = [:]
        for (i, s) in table.enumerated() where i < 256 { d[s] = d[s] ?? UInt8(i) }
        return d
    }()
}
