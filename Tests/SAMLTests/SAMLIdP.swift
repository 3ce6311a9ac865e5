import EvidenceCore
import EvidenceSAML
import Foundation
import PeerSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The scripted IdP of scripts/peers/saml_idp.py: pysaml2 builds responses, xmlsec1 signs
/// them. Keys are made once per test run; responses are cached by their parameters.
/// A missing python venv, pysaml2 or xmlsec1 makes the call throw, so tests fail, never skip.
enum SAMLIdP {
    static let script = PeerProcess.scripts + "/saml_idp.py"
    static let python = PeerProcess.python
    static let entityID = "http://127.0.0.1:18370/idp/metadata"
    static let spEntityID = "https://sp.example.test/saml/metadata"
    static let acsURL = "https://sp.example.test/saml/acs"
    static let requestID = "_req-0001"

    /// Keys (idp, idp2, idp-ec, other) in a folder that lives for the test run.
    static let keyDirectory: Result<String, PeerError> = {
        let dir = NSTemporaryDirectory() + "saml-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "saml-tests-\(getpid())") }
        let r = run([python, script, "keys", dir])
        return r.status == 0 ? .success(dir) : .failure(PeerError("saml_idp.py keys failed (run `make peers`: .venv with pysaml2, xmlsec1 from apt): \(r.output)"))
    }()

    private static let cache = Mutex<[String: String]>([:])

    /// The argument line of saml_idp.py for one response (without --out).
    static func arguments(key: String = "idp", sign: String = "both", alg: String = "rsa-sha256",
                          spEntityID: String = spEntityID, acsURL: String = acsURL, inResponseTo: String? = requestID,
                          nameID: String = "alice@msp.example",
                          classRef: String = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                          base64: Bool = false, inclusivePrefixes: String? = nil) -> [String] {
        var args = ["response", "--key", key, "--sign", sign, "--alg", alg, "--sp-entity-id", spEntityID,
                    "--acs-url", acsURL, "--name-id", nameID, "--class-ref", classRef]
        if let inResponseTo { args += ["--in-response-to", inResponseTo] }
        if base64 { args.append("--base64") }
        if let inclusivePrefixes { args += ["--inclusive-prefixes", inclusivePrefixes] }
        return args
    }

    /// The fixtures the suites use, built in one python process the first time any is needed
    /// (one process per fixture would cost a python start-up each on a busy machine).
    private static let prepared: Void = {
        let variants: [[String]] = [
            arguments(), arguments(base64: true), arguments(sign: "assertion"), arguments(sign: "response"), arguments(sign: "none"),
            arguments(key: "idp-ec", alg: "ecdsa-sha256"), arguments(key: "idp2"), arguments(key: "other"),
            arguments(classRef: "https://refeds.org/profile/mfa"), arguments(classRef: "urn:example:ac:security-key"),
            arguments(classRef: "urn:example:ac:unknown"), arguments(sign: "assertion", nameID: "user@evil.com.example.com"),
            arguments(spEntityID: "https://other-sp.example.test/metadata"), arguments(acsURL: "https://evil.example.test/acs"),
            arguments(sign: "assertion", acsURL: "https://evil.example.test/acs"), arguments(inResponseTo: nil),
            arguments(sign: "none", inclusivePrefixes: "xs"),
        ]
        guard let dir = try? keyDirectory.get() else { return }
        var lines: [String] = []
        var outputs: [(String, String)] = []
        for (i, args) in variants.enumerated() {
            let out = dir + "/batch-\(i).xml"
            lines.append((args.prefix(1) + [dir] + args.dropFirst() + ["--out", out]).joined(separator: "\t"))
            outputs.append((args.joined(separator: "\u{1}"), out))
        }
        let list = dir + "/batch.txt"
        guard (try? lines.joined(separator: "\n").write(toFile: list, atomically: true, encoding: .utf8)) != nil,
              run([python, script, "batch", list]).status == 0 else { return }
        cache.withLock { c in
            for (key, out) in outputs { if let text = try? String(contentsOfFile: out, encoding: .utf8) { c[key] = text } }
        }
    }()

    /// A response built and signed by pysaml2 + xmlsec1 (raw XML, or base64 with `base64`).
    static func response(key: String = "idp", sign: String = "both", alg: String = "rsa-sha256",
                         spEntityID: String = spEntityID, acsURL: String = acsURL, inResponseTo: String? = requestID,
                         nameID: String = "alice@msp.example",
                         classRef: String = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
                         base64: Bool = false, inclusivePrefixes: String? = nil) throws -> String {
        let dir = try keyDirectory.get()
        _ = prepared
        let args = arguments(key: key, sign: sign, alg: alg, spEntityID: spEntityID, acsURL: acsURL, inResponseTo: inResponseTo,
                             nameID: nameID, classRef: classRef, base64: base64, inclusivePrefixes: inclusivePrefixes)
        let cacheKey = args.joined(separator: "\u{1}")
        if let hit = cache.withLock({ $0[cacheKey] }) { return hit }
        let out = dir + "/resp-\(UInt64.random(in: 0...UInt64.max)).xml"
        let r = run([python, script, args[0], dir] + args.dropFirst() + ["--out", out])
        guard r.status == 0, let text = try? String(contentsOfFile: out, encoding: .utf8) else {
            throw PeerError("saml_idp.py response failed: \(r.output)")
        }
        cache.withLock { $0[cacheKey] = text }
        return text
    }

    /// IdP metadata listing the given certificates (`idp,idp2` for a rollover).
    static func metadata(certs: String = "idp,idp2") throws -> String {
        let dir = try keyDirectory.get()
        let out = dir + "/md-\(certs).xml"
        if let text = try? String(contentsOfFile: out, encoding: .utf8) { return text }
        // Concurrent tests may build the same file: each writes its own temporary, rename is atomic.
        let temporary = out + ".\(UInt64.random(in: 0...UInt64.max)).tmp"
        let r = run([python, script, "metadata", dir, "--entity-id", entityID, "--certs", certs, "--out", temporary])
        guard r.status == 0, rename(temporary, out) == 0, let text = try? String(contentsOfFile: out, encoding: .utf8) else {
            throw PeerError("saml_idp.py metadata failed: \(r.output)")
        }
        return text
    }

    static func certificatePath(_ name: String) throws -> String { try keyDirectory.get() + "/\(name).crt" }

    static func serviceProvider(certs: String = "idp,idp2", requirement: SAMLSignatureRequirement = .assertionOrResponse,
                                clock: ManualWallClock = ManualWallClock(Date()), assurance: SAMLAssuranceMapping = .standard,
                                unsolicited: Bool = false, limits: SAMLParseLimits = SAMLParseLimits()) throws -> SAMLServiceProvider {
        let idp = try SAMLIdentityProviderMetadata(xml: Array(try metadata(certs: certs).utf8))
        let configuration = try SAMLServiceProviderConfiguration(
            entityID: spEntityID, assertionConsumerServiceURL: acsURL, identityProvider: idp, tenant: try TenantID("acme"),
            signatureRequirement: requirement, assurance: assurance, limits: limits, acceptsUnsolicitedResponses: unsolicited)
        return SAMLServiceProvider(configuration: configuration, clock: clock)
    }

    static func run(_ argv: [String], timeoutSeconds: Double = 60) -> (status: Int32, output: String) {
        PeerProcess.run(argv, timeoutSeconds: timeoutSeconds)
    }
}

