// swift-tools-version:6.0
import Foundation
import PackageDescription

// libFuzzer targets for the parsers of untrusted bytes (time protocols, SAML). Kept out of the main package:
// they only link with the sanitizer coverage flags and libFuzzer's runtime that
// scripts/fuzz.sh passes (`make fuzz` runs it).
//
// The parent package is referenced by path; its identity is its folder name, whatever the
// checkout is called.
let parentIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// `@_extern(c)` declares libFuzzer's `LLVMFuzzerRunDriver` without a C shim.
let fuzz: [SwiftSetting] = [.enableExperimentalFeature("Extern")]

let package = Package(
    name: "nis2-evidence-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(name: "fuzz-ntske-records",
                          dependencies: [.product(name: "EvidenceNTS", package: parentIdentity)],
                          path: "Sources/NTSKERecords", swiftSettings: fuzz),
        .executableTarget(name: "fuzz-ntp-extension-fields",
                          dependencies: [.product(name: "EvidenceNTS", package: parentIdentity)],
                          path: "Sources/NTPExtensionFields", swiftSettings: fuzz),
        .executableTarget(name: "fuzz-timestamp-response",
                          dependencies: [.product(name: "EvidenceTSA", package: parentIdentity)],
                          path: "Sources/TimeStampResponse", swiftSettings: fuzz),
        .executableTarget(name: "fuzz-webauthn-cbor",
                          dependencies: [.product(name: "EvidenceWebAuthn", package: parentIdentity)],
                          path: "Sources/WebAuthnCBOR", swiftSettings: fuzz),
        .executableTarget(name: "fuzz-saml-response",
                          dependencies: [.product(name: "EvidenceSAML", package: parentIdentity)],
                          path: "Sources/SAMLResponse", swiftSettings: fuzz),
    ],
    swiftLanguageModes: [.v6]
)
