import EvidenceCore

/// Published test vectors: NIST FIPS 180-4 examples (SHA-256, SHA-512) and RFC 8032 §7.1,
/// shared by every test of a hashing or signing backend.
public enum CryptoVectors {
    public static let nist448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    public static let nist896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"

    /// (message, SHA-256 hex)
    public static let sha256: [(String, String)] = [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (nist448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (nist896, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]
    public static let sha256MillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    /// (message, SHA-512 hex)
    public static let sha512: [(String, String)] = [
        ("abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        ("", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        (nist448, "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"),
        (nist896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"),
    ]
    public static let sha512MillionA = "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"

    public struct Ed25519Case: Sendable, CustomStringConvertible {
        public let name: String, seed: String, publicKey: String, message: String, signature: String
        public var description: String { name }
    }

    /// RFC 8032 §7.1: TEST 1, TEST 2, TEST 3 and TEST SHA(abc).
    public static let ed25519: [Ed25519Case] = [
        .init(name: "TEST 1",
              seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
              publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
              message: "",
              signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
        .init(name: "TEST 2",
              seed: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
              publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
              message: "72",
              signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        .init(name: "TEST 3",
              seed: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
              publicKey: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
              message: "af82",
              signature: "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
        .init(name: "TEST SHA(abc)",
              seed: "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
              publicKey: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
              message: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
              signature: "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"),
    ]

    public static func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex)! }
}

/// The checks every `SHA256Backend` must pass: the NIST vectors, the RFC 9162 prefix forms,
/// and incremental hashing equal to one-shot hashing at every split of a record-sized input.
public enum SHA256BackendConformance {
    public static func run(_ backend: some SHA256Backend) throws {
        func fail(_ what: String) -> ConformanceFailure { ConformanceFailure(guarantee: "SHA256Backend is FIPS 180-4 SHA-256", detail: what) }
        for (message, hex) in CryptoVectors.sha256 where backend.hash(message).hex != hex {
            throw fail("SHA-256(\"\(message.prefix(20))…\") is \(backend.hash(message).hex), not \(hex)")
        }
        let input = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let reference = PortableSHA256()
        guard backend.leafHash(input) == reference.hash(bytes: [0x00] + input) else { throw fail("leaf hash is not SHA-256(0x00 || entry)") }
        let l = reference.hash("l"), r = reference.hash("r")
        guard backend.hashChildren(l, r) == reference.hash(bytes: [0x01] + l.bytes + r.bytes) else {
            throw fail("node hash is not SHA-256(0x01 || left || right)")
        }
        let whole = backend.hash(bytes: input)
        for split in 0...input.count {
            var h = backend.makeHasher()
            input[..<split].withUnsafeBytes { h.update($0) }
            input[split...].withUnsafeBytes { h.update($0) }
            guard h.finalize() == whole else { throw fail("incremental hashing split at byte \(split) differs from one-shot hashing") }
        }
    }
}
