import EvidenceCore
import EvidenceSAML

// Input: a SAMLResponse as posted to the ACS (raw XML or base64), and the same bytes read as
// IdP metadata. Signatures cannot verify with the fixed certificate below, but parsing, the
// structure checks, exclusive C14N and the digest comparison all run on every input.
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

/// A self-signed P-256 certificate (public part only) standing in for an IdP's signing key.
let fuzzIdPCertificate = "MIIBiDCCAS2gAwIBAgIUJcRwUPwgpx4uFcc5Myo2wcXjfswwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOZnV6ei1pZHAubG9jYWwwHhcNMjYxMjA0MTcwMzMxWhcNMzYxMjAxMTcwMzMxWjAZMRcwFQYDVQQDDA5mdXp6LWlkcC5sb2NhbDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDmmCCLlSiM8sRKe4YJPiaeyqMJ25c+uS3BTuyWyXv11HJsVCe4DkOZ7+PCdMOIQFBBSymChTdiyYbccQyjCEGejUzBRMB0GA1UdDgQWBBRGpchpFFU4oxZfn0jMlXICMRA3aTAfBgNVHSMEGDAWgBRGpchpFFU4oxZfn0jMlXICMRA3aTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDcjTVDRMN726qOemoNWbkJB30zFd6muz+5Y4JceG25iQIhAMHFtHUeV0qV3nE6ChGysB40dpsV9qIeS5rf3/0M0CN5"

let provider: SAMLServiceProvider = {
    let idp = try! SAMLIdentityProviderMetadata(entityID: "http://127.0.0.1:18370/idp/metadata",
                                                signingCertificatesDER: [Base64.decode(fuzzIdPCertificate)!])
    let configuration = try! SAMLServiceProviderConfiguration(
        entityID: "https://sp.example.test/saml/metadata", assertionConsumerServiceURL: "https://sp.example.test/saml/acs",
        identityProvider: idp, tenant: try! TenantID("fuzz"), acceptsUnsolicitedResponses: true)
    return SAMLServiceProvider(configuration: configuration, clock: ManualWallClock())
}()

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? provider.checkWithoutReplay(SAMLPostedResponse(samlResponse: text, requestID: "_req-0001"))
    _ = try? SAMLIdentityProviderMetadata(xml: bytes)
    return 0
})
