import Foundation
@testable import Kopia
import KopiaTestSupport
import Logging

/// Helpers for the write-path tests: temp directories, random trees, reading repositories back.
enum WriteTestSupport {
    static let logger = Logger(label: "test.write")

    static func tempDir(_ tag: String) throws -> String {
        let path = NSTemporaryDirectory() + "ferry-write-\(tag)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// An opened repository's reader side.
    struct Reader {
        let contents: ContentManager
        let objects: ObjectStore
        let manifests: ManifestStore
    }

    static func read(_ path: String, password: String) async throws -> Reader {
        let storage = try FilesystemStorage(root: path)
        let format = try await RepositoryFormat.open(storage: storage, password: password)
        let contents = try await ContentManager.open(storage: storage, format: format, logger: logger)
        return Reader(contents: contents, objects: ObjectStore(contents: contents),
                      manifests: try await ManifestStore.load(from: contents, logger: logger))
    }

    /// What a tree holds, path → description (type, mode, bytes or target), for byte-exact comparison.
    static func describeTree(_ root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return out }
        while let rel = e.nextObject() as? String {
            let p = root + "/" + rel
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            let mode = String(UInt32(st.st_mode) & 0o7777, radix: 8)
            switch st.st_mode & S_IFMT {
            case S_IFDIR: out[rel] = "d \(mode)"
            case S_IFLNK: out[rel] = "l -> \((try? fm.destinationOfSymbolicLink(atPath: p)) ?? "?")"
            default: out[rel] = "f \(mode) \(Hex.encode(KeyDerivation.hmacSHA256(key: [], message: [UInt8](fm.contents(atPath: p) ?? Data()))))"
            }
        }
        return out
    }

    /// Reads a snapshot back through the reader's object API into the same description shape.
    static func describeSnapshot(_ reader: Reader, root: DirectoryEntry) async throws -> [String: String] {
        var out: [String: String] = [:]
        func walk(_ dir: DirectoryEntry, _ prefix: String) async throws {
            let d = try Directory.parse(try await reader.objects.read(dir.objectID), objectID: dir.objectID)
            for e in d.entries {
                let rel = prefix.isEmpty ? e.name : prefix + "/" + e.name
                let mode = String(e.permissions.rawValue, radix: 8)
                switch e.type {
                case .directory:
                    out[rel] = "d \(mode)"
                    try await walk(e, rel)
                case .symlink:
                    out[rel] = "l -> \(String(decoding: try await reader.objects.read(e.objectID), as: UTF8.self))"
                default:
                    let bytes = try await reader.objects.read(e.objectID)
                    guard Int64(bytes.count) == e.size else { throw KopiaError(.corruptContent, "size mismatch \(rel)") }
                    out[rel] = "f \(mode) \(Hex.encode(KeyDerivation.hmacSHA256(key: [], message: bytes)))"
                }
            }
        }
        try await walk(root, "")
        return out
    }

    /// A random tree: nested directories, names with spaces and Unicode, sizes from 0 to `maxFile` bytes (a few
    /// large ones), modes incl. setgid/sticky, symlinks, empty files and empty directories.
    static func makeRandomTree(at root: String, seed: UInt64, files: Int, maxFile: Int, large: [Int] = []) throws {
        var rng = SplitMix(seed: seed)
        let fm = FileManager.default
        var dirs = [root]
        let names = ["a", "b c", "naïve", "日本", "x.y", "-dash", "UPPER", "emoji😀", "tab\tname", "q"]
        for i in 0..<max(1, files / 4) {
            let parent = dirs[Int(rng.next() % UInt64(dirs.count))]
            let d = parent + "/" + names[i % names.count] + "-d\(i)"
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
            dirs.append(d)
        }
        var sizes = (0..<files).map { i -> Int in
            switch i % 7 {
            case 0: 0
            case 1: 1
            case 2: Int(rng.next() % 100)
            default: Int(rng.next() % UInt64(max(1, maxFile)))
            }
        }
        sizes.append(contentsOf: large)
        for (i, size) in sizes.enumerated() {
            let dir = dirs[Int(rng.next() % UInt64(dirs.count))]
            let p = dir + "/" + names[(i * 3) % names.count] + "-f\(i)"
            var bytes = [UInt8](repeating: 0, count: size)
            let compressible = i % 2 == 0
            for j in stride(from: 0, to: size, by: 8) {
                let v = compressible ? UInt64(j / 64) &* 0x0101_0101_0101_0101 : rng.next()
                for k in 0..<min(8, size - j) { bytes[j + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            }
            try Data(bytes).write(to: URL(fileURLWithPath: p))
            let modes: [Int] = [0o644, 0o600, 0o755, 0o640, 0o2755]
            chmod(p, mode_t(modes[i % modes.count]))
        }
        for i in 0..<max(1, files / 10) {
            let dir = dirs[Int(rng.next() % UInt64(dirs.count))]
            try fm.createSymbolicLink(atPath: dir + "/link\(i)", withDestinationPath: i % 2 == 0 ? "../target \(i)" : "/etc/hostname")
        }
        try fm.createDirectory(atPath: root + "/empty dir", withIntermediateDirectories: true)
        chmod(root + "/empty dir", 0o1777)
    }
}

/// SplitMix64: a tiny deterministic PRNG for test trees.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension WriteTestSupport {
    /// path → mtime (seconds.nanoseconds) of every file and directory (symlinks excluded: lutimes has µs).
    static func mtimes(_ root: String) throws -> [String: String] {
        var out: [String: String] = [:]
        guard let e = FileManager.default.enumerator(atPath: root) else { return out }
        while let rel = e.nextObject() as? String {
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0, st.st_mode & S_IFMT != S_IFLNK else { continue }
            out[rel] = "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
        return out
    }

    /// Decodes an index v2 plaintext with the reader's decoder.
    static func entries(ofIndex plain: [UInt8]) throws -> [ContentInfo] {
        guard plain.count > 2 else { return [] }
        var builder = IndexTableBuilder(keySize: Int(plain[1]))
        try IndexV2.decode(plain, blobID: "test", into: &builder)
        let table = builder.build(watermark: 0)
        return (0..<table.count).map { table.info(at: $0) }
    }
}
