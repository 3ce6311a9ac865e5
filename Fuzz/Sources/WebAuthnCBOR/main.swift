import EvidenceWebAuthn

// Input: an attestation object, COSE key or authenticator data as a browser (or whoever
// posts to the relying party) could send it.
#if canImport(Glibc)
import Glibc
#endif

// SwiftPM's `--defsym main=<module>_main` clashes with libFuzzer's main, so this program is
// the entry point and calls libFuzzer's driver (see scripts/fuzz.sh).
@_extern(c, "LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let decoder = CBORDecoder()
    if let v = try? decoder.decode(bytes) {
        if let auth = v[text: "authData"]?.bytesValue { _ = try? AuthenticatorData(auth) }
        _ = try? COSEPublicKey(encoded: bytes)
    }
    _ = try? AuthenticatorData(bytes)
    return 0
})
