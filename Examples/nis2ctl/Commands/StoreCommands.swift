import EvidenceCore
import EvidenceOpenSSL
import Foundation

/// `nis2ctl init` and `nis2ctl tenant …`: creating a store and registering tenants.
enum StoreCommands {
    static let all: [CommandSpec] = [initStore, tenantAdd, tenantList]

    static let initStore = CommandSpec(
        path: ["init"], summary: "create an evidence store and its checkpoint signing key",
        help: """
        usage: nis2ctl init --store DIR [--origin ORIGIN] [--key-name NAME]

        Creates DIR (which must be new or empty) as an evidence store, with a fresh Ed25519
        checkpoint key: DIR/keys/checkpoint.key (mode 0400; move it to a safer place in
        production) and DIR/keys/checkpoint.pub (the C2SP verifier key to hand to auditors).

          --store DIR        folder to create
          --origin ORIGIN    log origin prefix used in checkpoints (default: nis2ctl.local/<random id>)
          --key-name NAME    name of the checkpoint key (default: the origin)
        """,
        options: ["store", "origin", "key-name"]
    ) { a in
        let dir = try a.required("store")
        let origin = a.value("origin") ?? "nis2ctl.local/" + Hex.encode((0..<6).map { _ in UInt8.random(in: 0...255) })
        let name = a.value("key-name") ?? origin
        let (signer, seed) = try Ed25519Signer.generate(keyName: name)
        try EvidenceStore.create(at: dir, origin: origin, keyName: name, publicKey: signer.publicKey,
                                 privateKey: NoteKey.privateKey(name: name, seed: seed, publicKey: signer.publicKey),
                                 clock: SystemWallClock())
        Console.out("created evidence store \(dir)")
        Console.out("origin       \(origin)")
        Console.out("verifier key \(NoteKey.verifierKey(name: name, publicKey: signer.publicKey))")
        return .success
    }

    static let tenantAdd = CommandSpec(
        path: ["tenant", "add"], summary: "register a customer tenant",
        help: """
        usage: nis2ctl tenant add --store DIR --tenant ID [--name DISPLAY-NAME]

        Registers a tenant (1-63 of a-z 0-9 - _ .). Nothing is written for a tenant before it is
        registered, so a mistyped id is an error rather than a new, empty log.
        """,
        options: ["store", "tenant", "name"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: true)
        let t = try a.tenant()
        try store.addTenant(t, displayName: a.value("name"))
        Console.out("registered tenant \(t)")
        return .success
    }

    static let tenantList = CommandSpec(
        path: ["tenant", "list"], summary: "list registered tenants",
        help: "usage: nis2ctl tenant list --store DIR [--json]",
        options: ["store"], flags: ["json"]
    ) { a in
        let store = try StoreAccess.open(try a.required("store"), signing: false)
        let ts = try store.tenants()
        if a.flag("json") { Console.json(.object(["tenants": .array(ts.map { .string($0.rawValue) })])) }
        else { ts.forEach { Console.out($0.rawValue) } }
        return .success
    }
}
