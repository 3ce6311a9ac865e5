import EvidenceTSA

// Input: a TSA's reply, or a stored token read back from evidence.
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's own `main` cannot be used: SwiftPM links every executable with
// `--defsym main=<module>_main`, which clashes with it. So this program is the entry point
// and hands control to libFuzzer's driver (runtime linked without its main, see scripts/fuzz.sh).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    _ = try? TimeStampResponse(der: bytes)
    _ = try? TimeStampResponse(tokenDER: bytes)
    return 0
})
