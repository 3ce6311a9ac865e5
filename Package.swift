// swift-tools-version:6.0
import PackageDescription

// One product per module: an MSP links only what it uses. EvidenceCore and NIS2Reporting
// depend on Foundation alone; every C library sits behind exactly one adapter target.
let package = Package(
    name: "nis2-evidence",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "EvidenceCore", targets: ["EvidenceCore"]),
        .library(name: "EvidenceConformance", targets: ["EvidenceConformance"]),
        .library(name: "NIS2Reporting", targets: ["NIS2Reporting"]),
        .library(name: "EvidenceOpenSSL", targets: ["EvidenceOpenSSL"]),
        .library(name: "EvidenceS3", targets: ["EvidenceS3"]),
        .library(name: "EvidenceSQLite", targets: ["EvidenceSQLite"]),
        .library(name: "EvidenceNTS", targets: ["EvidenceNTS"]),
        .library(name: "EvidenceTSA", targets: ["EvidenceTSA"]),
        .library(name: "EvidencePDF", targets: ["EvidencePDF"]),
        .library(name: "EvidencePTY", targets: ["EvidencePTY"]),
        .library(name: "EvidenceSAML", targets: ["EvidenceSAML"]),
        .library(name: "EvidenceAccess", targets: ["EvidenceAccess"]),
        .library(name: "EvidencePortals", targets: ["EvidencePortals"]),
        .library(name: "EvidenceOIDC", targets: ["EvidenceOIDC"]),
        .library(name: "EvidenceWebAuthn", targets: ["EvidenceWebAuthn"]),
        .executable(name: "nis2ctl", targets: ["nis2ctl"]),
    ],
    targets: [
        // Core: pure Swift, Foundation only.
        .target(name: "EvidenceCore", path: "Sources/EvidenceCore"),
        // The conformance suites every seam implementation runs (WORM stores, ...).
        .target(name: "EvidenceConformance", dependencies: ["EvidenceCore"], path: "Sources/EvidenceConformance"),
        .target(name: "NIS2Reporting", dependencies: ["EvidenceCore"], path: "Sources/NIS2Reporting"),
        // Just-in-time access broker: grants, policy, break-glass; state derived from the log.
        .target(name: "EvidenceAccess", dependencies: ["EvidenceCore"], path: "Sources/Access"),

        // C shims: module maps only.
        .systemLibrary(name: "COpenSSL", path: "Sources/Adapters/COpenSSL",
                       pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/Adapters/CSQLite",
                       pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The one C source target: posix_openpt and the GNU posix_spawn extensions (setsid,
        // closefrom) that Swift's Glibc module does not expose. No fork.
        .target(name: "CPTY", path: "Sources/Adapters/CPTY"),
        .systemLibrary(name: "CLibXML2", path: "Sources/Adapters/CLibXML2",
                       pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),

        // Adapters: one target per C library or peer protocol.
        .target(name: "EvidenceOpenSSL", dependencies: ["EvidenceCore", "COpenSSL"],
                path: "Sources/Adapters/OpenSSL"),
        .target(name: "EvidenceS3", dependencies: ["EvidenceCore", "EvidenceOpenSSL"],
                path: "Sources/Adapters/S3"),
        .target(name: "EvidenceSQLite", dependencies: ["EvidenceCore", "NIS2Reporting", "CSQLite"],
                path: "Sources/Adapters/SQLite"),
        .target(name: "EvidenceNTS", dependencies: ["EvidenceCore", "EvidenceOpenSSL", "COpenSSL"],
                path: "Sources/Adapters/NTS"),
        .target(name: "EvidenceTSA", dependencies: ["EvidenceCore", "EvidenceOpenSSL", "COpenSSL"],
                path: "Sources/Adapters/TSA"),
        .target(name: "EvidenceOIDC", dependencies: ["EvidenceCore", "EvidenceOpenSSL"],
                path: "Sources/Adapters/OIDC"),
        // Own PDF writer (no C library): embedded DejaVu subsets, manifest attachment with /AF.
        .target(name: "EvidencePDF", dependencies: ["EvidenceCore"], path: "Sources/Adapters/PDF"),
        // Regulator portals: file drop, HTTPS submission, national field mappings (mostly inferred).
        .target(name: "EvidencePortals", dependencies: ["EvidenceCore", "NIS2Reporting"],
                path: "Sources/Adapters/Portals"),
        .target(name: "EvidencePTY", dependencies: ["EvidenceCore", "CPTY"],
                path: "Sources/Adapters/PTY"),
        .target(name: "EvidenceSAML", dependencies: ["EvidenceCore", "EvidenceOpenSSL", "CLibXML2"],
                path: "Sources/Adapters/SAML"),
        // Passkeys: bounded CBOR/COSE, registration and assertion checks, step-up for the broker.
        .target(name: "EvidenceWebAuthn", dependencies: ["EvidenceCore", "EvidenceOpenSSL", "EvidenceAccess"],
                path: "Sources/Adapters/WebAuthn"),

        // Host app.
        .executableTarget(name: "nis2ctl",
                          dependencies: ["EvidencePortals", "EvidenceCore", "NIS2Reporting", "EvidenceOpenSSL", "EvidenceSQLite",
                                         "EvidenceNTS", "EvidenceTSA", "EvidencePDF", "EvidenceAccess", "EvidencePTY", "EvidenceS3", "EvidenceSAML", "EvidenceOIDC"],
                          path: "Examples/nis2ctl"),

        // Benchmarks are programs, not tests.
        .executableTarget(name: "evidence-bench",
                          dependencies: ["EvidenceCore", "EvidenceOpenSSL"],
                          path: "Benchmarks/EvidenceBench"),
        .executableTarget(name: "s3-bench",
                          dependencies: ["EvidenceCore", "EvidenceOpenSSL", "EvidenceS3"],
                          path: "Benchmarks/S3Bench"),
        .executableTarget(name: "time-bench",
                          dependencies: ["EvidenceCore", "EvidenceNTS"],
                          path: "Benchmarks/TimeBench"),
        .executableTarget(name: "reporting-bench",
                          dependencies: ["EvidenceCore", "NIS2Reporting"],
                          path: "Benchmarks/ReportingBench"),
        .executableTarget(name: "capture-bench",
                          dependencies: ["EvidenceCore", "EvidenceOpenSSL", "EvidencePTY", "CPTY"],
                          path: "Benchmarks/CaptureBench"),
        .executableTarget(name: "pack-bench",
                          dependencies: ["EvidenceCore", "EvidenceOpenSSL", "EvidencePDF"],
                          path: "Benchmarks/PackBench"),

        // Starts and stops the real loopback peers of the adapter tests (not a product).
        .target(name: "PeerSupport", path: "Tests/PeerSupport"),
        .testTarget(name: "EvidenceCoreTests", dependencies: ["EvidenceCore", "EvidenceConformance"]),
        .testTarget(name: "OpenSSLTests", dependencies: ["EvidenceOpenSSL", "EvidenceCore", "EvidenceConformance"]),
        .testTarget(name: "S3Tests", dependencies: ["EvidenceS3", "EvidenceConformance", "EvidenceOpenSSL", "EvidenceCore", "PeerSupport"]),
        .testTarget(name: "TimeTests", dependencies: ["EvidenceNTS", "EvidenceTSA", "EvidenceOpenSSL", "EvidenceCore", "PeerSupport"]),
        .testTarget(name: "RecordingTests", dependencies: ["EvidenceCore", "EvidencePTY", "EvidenceOpenSSL"]),
        .testTarget(name: "SAMLTests", dependencies: ["EvidenceSAML", "EvidenceOpenSSL", "EvidenceCore", "PeerSupport"]),
        .testTarget(name: "AccessTests", dependencies: ["EvidenceAccess", "EvidenceCore"]),
        .testTarget(name: "OIDCTests", dependencies: ["EvidenceOIDC", "EvidenceOpenSSL", "EvidenceCore", "PeerSupport"]),
        .testTarget(name: "WebAuthnTests", dependencies: ["EvidenceWebAuthn", "EvidenceAccess", "EvidenceCore"]),
        .testTarget(name: "NIS2ReportingTests", dependencies: ["NIS2Reporting", "EvidenceCore", "EvidenceSQLite"]),
        .testTarget(name: "PackTests", dependencies: ["EvidenceCore", "EvidencePDF", "EvidenceOpenSSL"]),
        .testTarget(name: "PortalTests", dependencies: ["EvidencePortals", "NIS2Reporting", "EvidenceCore", "EvidenceOpenSSL"]),
    ],
    swiftLanguageModes: [.v6]
)
