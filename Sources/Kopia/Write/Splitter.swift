/// Cuts an object's byte stream into chunks exactly where Kopia cuts it (kopia-format.md §9.3), so contents
/// written by Ferry deduplicate with contents Kopia wrote for the same files.
///
/// One splitter per object (file, directory listing): create it with ``SplitterAlgorithm/makeSplitter()``,
/// feed the object's bytes in order through ``nextSplitPoint(_:)``, and cut wherever it says. A chunk also
/// ends at the end of the object. Value type; not shared between tasks.
///
/// Supported names (Kopia `repo/splitter/splitter.go`): `FIXED` (4 MiB), `FIXED-1M|2M|4M|8M`,
/// `DYNAMIC` (= `DYNAMIC-4M-BUZHASH`), `DYNAMIC-1M|2M|4M|8M-BUZHASH`. The RABINKARP variants are refused with
/// `.unknownAlgorithm`.
public struct Splitter: Sendable {
    enum Kind: Sendable {
        case fixed(size: Int)
        case buzhash(BuzhashSplitter)
    }

    var kind: Kind
    private var count = 0

    init(kind: Kind) { self.kind = kind }

    /// The largest chunk this splitter produces.
    public var maxSegmentSize: Int {
        switch kind {
        case .fixed(let size): size
        case .buzhash(let b): b.maxSize
        }
    }

    /// Looks for the next cut in `bytes`, which continue the stream fed so far.
    ///
    /// - Returns: the number of bytes of `bytes` that complete the current chunk (the cut falls after them),
    ///   or nil when every byte was consumed without a cut. After a cut, feed the rest of `bytes` again.
    public mutating func nextSplitPoint(_ bytes: UnsafeRawBufferPointer) -> Int? {
        switch kind {
        case .fixed(let size):
            let left = size - count
            if bytes.count >= left {
                count = 0
                return left
            }
            count += bytes.count
            return nil
        case .buzhash(var b):
            let result = b.nextSplitPoint(bytes)
            kind = .buzhash(b)
            return result
        }
    }

    /// Convenience: every chunk length of `data` as one whole object (the last chunk may be shorter; an empty
    /// input yields one empty chunk, as Kopia writes an empty file as one empty content).
    public static func chunkLengths(of data: [UInt8], algorithm: SplitterAlgorithm) -> [Int] {
        var splitter = algorithm.makeSplitter()
        var lengths: [Int] = []
        data.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[start...])
                guard let n = splitter.nextSplitPoint(rest) else {
                    lengths.append(raw.count - start)
                    return
                }
                lengths.append(n)
                start += n
            }
        }
        return lengths.isEmpty ? [0] : lengths
    }
}

/// A splitter name from the repository format (`splitter` in the format blob).
public struct SplitterAlgorithm: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Hashable, Sendable {
        case fixed(Int)
        case buzhash(average: Int)
    }

    let kind: Kind
    /// The name as Kopia spells it.
    public let name: String

    public static let `default` = SplitterAlgorithm(kind: .buzhash(average: 4 << 20), name: "DYNAMIC-4M-BUZHASH")

    init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    /// Parses a Kopia splitter name; `""` means legacy `FIXED`.
    /// - Throws: `.unknownAlgorithm` naming it.
    public init(name: String) throws(KopiaError) {
        let sizes = ["1M": 1 << 20, "2M": 2 << 20, "4M": 4 << 20, "8M": 8 << 20]
        switch name {
        case "", "FIXED":
            self.init(kind: .fixed(4 << 20), name: name.isEmpty ? "FIXED" : name)
        case "DYNAMIC":
            self.init(kind: .buzhash(average: 4 << 20), name: name)
        default:
            let parts = name.split(separator: "-").map(String.init)
            if parts.count == 2, parts[0] == "FIXED", let size = sizes[parts[1]] {
                self.init(kind: .fixed(size), name: name)
            } else if parts.count == 3, parts[0] == "DYNAMIC", parts[2] == "BUZHASH", let size = sizes[parts[1]] {
                self.init(kind: .buzhash(average: size), name: name)
            } else {
                throw KopiaError(.unknownAlgorithm, "splitter \(name) is not supported (use DYNAMIC-4M-BUZHASH or FIXED-*)")
            }
        }
    }

    public var description: String { name }

    /// A fresh splitter for one object.
    public func makeSplitter() -> Splitter {
        switch kind {
        case .fixed(let size): Splitter(kind: .fixed(size: size))
        case .buzhash(let average): Splitter(kind: .buzhash(BuzhashSplitter(averageSize: average)))
        }
    }
}
