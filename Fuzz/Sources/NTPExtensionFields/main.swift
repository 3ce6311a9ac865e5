import EvidenceNTS

// Input: an NTP reply (header + extension fields), or a decrypted NTS plaintext.
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
    if let header = try? NTPHeader(bytes: bytes) {
        _ = header.kissCode
        _ = NTPTime.unixSeconds(header.transmitTime, near: 1.8e9)
        _ = try? NTPExtensionFieldParser.parse(bytes, from: NTPHeader.byteCount)
    }
    if let fields = try? NTPExtensionFieldParser.parse(bytes) { _ = fields.map(\.serialized) }
    return 0
})
