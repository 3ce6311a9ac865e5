import EvidenceCore
import Foundation
import Testing

/// `nis2ctl record` driven through a real terminal (tmux), exported, and played with the
/// real asciinema.
@Suite("PTY recorder", .timeLimit(.minutes(1)))
struct PTYRecordingTests {
    private func newStore(_ nis2ctl: String) throws -> String {
        let dir = NSTemporaryDirectory() + "rec-pty-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        #expect(try Programs.run([nis2ctl, "init", "--store", dir + "/store"]).status == 0)
        #expect(try Programs.run([nis2ctl, "tenant", "add", "--store", dir + "/store", "--tenant", "acme"]).status == 0)
        return dir
    }

    private func removeTree(_ dir: String) {
        _ = try? FileManager.default.subpathsOfDirectory(atPath: dir).forEach { chmod(dir + "/" + $0, 0o755) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func onlySession(_ nis2ctl: String, _ store: String) throws -> [String: JSONValue] {
        let list = try Programs.run([nis2ctl, "recording", "list", "--store", store, "--tenant", "acme", "--json"])
        guard case .object(let o)? = try? JSONParser.parse(list.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ToolError("recording list did not print one session: \(list.output)")
        }
        return o
    }

    @Test func interactiveBashWithAPasswordPromptIsRecordedPlayableAndHoldsNoPassword() throws {
        let exe = try Programs.nis2ctl()
        let dir = try newStore(exe); defer { removeTree(dir) }
        let store = dir + "/store", done = dir + "/done"
        let term = try TmuxTerminal("'\(exe)' record --store '\(store)' --tenant acme --grant g-7 --principal 'https://idp.example#bob' -- env 'PS1=rec> ' bash --norc --noprofile -i; echo \"exit=$?\" > '\(done)'; sleep 30")
        defer { term.stop() }
        try term.waitFor("rec>")
        try term.type("echo visible-$((6*7)); stty size")
        try term.waitFor("visible-42")
        try term.type(#"read -s -p "Password: " pw; echo; echo "length ${#pw}""#)
        try term.waitFor("Password:")
        try term.type("Tr0ub4dor-SECRET-pw")
        try term.waitFor("length 19")
        try term.type("exit 5")
        #expect(try term.waitForFile(done) == "exit=5\n", "the program's exit status is passed on")

        let session = try onlySession(exe, store)
        #expect(session["principal"]?.stringValue == "https://idp.example#bob" && session["grant"]?.stringValue == "g-7")
        #expect(session["outcome"]?.stringValue == "completed" && session["maskedInputs"]?.numberValue == 1)
        let id = try #require(session["session"]?.stringValue)
        let cast = dir + "/s.cast"
        let export = try Programs.run([exe, "recording", "export", "--store", store, "--tenant", "acme", "--session", id, "-o", cast])
        #expect(export.status == 0 && export.output.contains("chunks verified"), "\(export.output)")

        // The real asciinema needs a terminal of its own: a second tmux window runs it.
        let played = dir + "/played.txt"
        let player = try TmuxTerminal("asciinema cat '\(cast)' > '\(played)' 2>&1; echo \"exit=$?\" >> '\(played)'; sleep 30")
        defer { player.stop() }
        let out = try player.waitForFile(played)
        #expect(out.contains("visible-42") && out.contains("30 100") && out.contains("length 19") && out.hasSuffix("exit=0\n"), "\(out)")

        // Not one byte of the password anywhere in the store.
        var files = 0
        for rel in try FileManager.default.subpathsOfDirectory(atPath: store) {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: store + "/" + rel, isDirectory: &isDir), !isDir.boolValue else { continue }
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store + "/" + rel)))
            files += 1
            #expect(!bytes.contains(bytes: Array("Tr0ub4dor".utf8)) && !bytes.contains(bytes: Array("SECRET-pw".utf8)), "password found in \(rel)")
        }
        #expect(files > 8)
        #expect(try Programs.run([exe, "log", "verify", "--store", store]).status == 0)
    }

    @Test func aStoreThatRefusesWritesEndsTheSessionAndTellsTheUserWhy() throws {
        let exe = try Programs.nis2ctl()
        let dir = try newStore(exe); defer { removeTree(dir) }
        let store = dir + "/store", done = dir + "/done", err = dir + "/stderr.txt"
        // A 64 KiB file-size limit: the log's small records still fit, a 256 KiB chunk does not.
        let program = "echo first-line-kept; sleep 1; head -c 2000000 /dev/zero | tr '\\\\0' x; echo; echo never-shown-after-stop; sleep 20"
        let term = try TmuxTerminal("ulimit -f 64; '\(exe)' record --store '\(store)' --tenant acme --chunk-bytes 262144 --durability-ms 2000 -- bash -c \"\(program)\" 2> '\(err)'; echo \"exit=$?\" > '\(done)'; sleep 30")
        defer { term.stop() }
        #expect(try term.waitForFile(done, seconds: 20) == "exit=3\n", "fail-closed exits 3")
        let message = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        #expect(message.contains("the session was ended because its recording could not be kept") && message.contains("File too large"), "\(message)")
        #expect(!(try term.screen()).contains("never-shown-after-stop"))

        let session = try onlySession(exe, store)
        #expect(session["outcome"]?.stringValue == "failed-closed")
        #expect(session["reason"]?.stringValue?.contains("could not be stored") == true)
        let id = try #require(session["session"]?.stringValue)
        let cast = dir + "/s.cast"
        #expect(try Programs.run([exe, "recording", "export", "--store", store, "--tenant", "acme", "--session", id, "-o", cast]).status == 0)
        #expect(try String(contentsOfFile: cast, encoding: .utf8).contains("first-line-kept"), "what was acknowledged is still there")
        let verify = try Programs.run([exe, "log", "verify", "--store", store])
        #expect(verify.status == 0, "\(verify.output)")
    }
}
