import Foundation

/// `ferry-fuzz TARGET [files…]`.
///
/// Built normally (`swift build`), it replays the given files (a corpus or crash reproducers) through TARGET and
/// exits 0 when none traps. Built by `Benchmarks/Fuzz/fuzz.sh` with `-DFUZZING`, AddressSanitizer and sanitizer
/// coverage, it hands the remaining arguments to libFuzzer's driver (`LLVMFuzzerRunDriver`, linked from
/// `libclang_rt.fuzzer_no_main`), so every libFuzzer flag works: `ferry-fuzz index -max_total_time=60 corpus/`.
@main
struct FuzzMain {
    static func main() {
        var args = CommandLine.arguments
        guard args.count >= 2, let target = FuzzTarget(rawValue: args[1]) else {
            FileHandle.standardError.write(Data(
                "usage: ferry-fuzz TARGET [files or libFuzzer flags…]; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
            exit(2)
        }
        FuzzState.target = target
        args.remove(at: 1)
        if args.count == 3, args[1] == "--write-seeds" {
            do { try FuzzSeeds.write(target, to: args[2]) } catch { print("cannot write seeds: \(error)"); exit(1) }
            exit(0)
        }
        #if FUZZING
        runLibFuzzer(args)
        #else
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            target.run([UInt8](data))
        }
        print("replayed \(args.count - 1) input(s) through \(target.rawValue)")
        #endif
    }
}

/// The target chosen on the command line, read by the libFuzzer callback (set once before fuzzing starts).
enum FuzzState {
    nonisolated(unsafe) static var target: FuzzTarget = .index
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

func runLibFuzzer(_ args: [String]) -> Never {
    var argc = Int32(args.count)
    var cStrings: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    let rc = cStrings.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var argv = buffer.baseAddress
        return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
            FuzzState.target.run(bytes)
            return 0
        }
    }
    exit(rc)
}
#endif
