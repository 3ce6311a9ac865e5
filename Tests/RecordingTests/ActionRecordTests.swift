@testable import EvidenceCore
import Foundation
import Testing

/// `session.action` records are built byte by byte without a JSONValue tree: they must be the
/// exact bytes `EvidenceRecord.canonicalBytes()` gives, and refuse exactly what the parser does.
@Suite("Action record bytes")
struct ActionRecordTests {
    private let tenant = try! TenantID("acme")

    /// The record as the general path builds it, or nil when the parser refuses the action.
    private func reference(_ d: SessionDescriptor, _ kind: SessionEvent.Kind, _ event: UInt64, _ time: Date, _ data: [UInt8]) -> [UInt8]? {
        guard data.count <= SessionEvent.maxActionBytes,
              let detail = try? JSONParser.parse(data, limits: JSONLimits(maxBytes: SessionEvent.maxActionBytes)),
              case .object = detail else { return nil }
        return EvidenceRecord(kind: "session.action", tenant: d.tenant, time: time, actor: d.principal, body: .object([
            "action": .string(kind.rawValue), "event": .number(Double(event)), "detail": detail, "session": .string(d.id),
        ])).canonicalBytes()
    }

    private func direct(_ enc: inout ActionRecordEncoder, _ kind: SessionEvent.Kind, _ event: UInt64, _ time: Date, _ data: [UInt8]) -> [UInt8]? {
        guard data.withUnsafeBytes({ enc.take($0) }) else { return nil }
        var out: [UInt8] = []
        enc.record(kind: kind, event: event, time: time, into: &out)
        return out
    }

    private func check(_ enc: inout ActionRecordEncoder, _ d: SessionDescriptor, _ json: [UInt8], kind: SessionEvent.Kind = .command,
                       event: UInt64 = 7, time: Date = Date(timeIntervalSince1970: 1_780_000_000.123)) {
        let want = reference(d, kind, event, time, json)
        let got = direct(&enc, kind, event, time, json)
        #expect(got == want, "\(String(decoding: json, as: UTF8.self)) -> \(got.map { String(decoding: $0, as: UTF8.self) } ?? "refused") != \(want.map { String(decoding: $0, as: UTF8.self) } ?? "refused")")
    }

    static let samples: [String] = [
        #"{"argv":["systemctl","restart","nginx"]}"#,
        #"{"n":0,"m":-0,"o":-12,"p":123456789012345,"q":1234567890123456,"r":1.5,"s":1e3,"t":-2.50E-7,"u":100}"#,
        #"{ "z" : 1 , "a" : [ true , false , null , { } , [ ] ] , "m" : { "y" : "2", "b" : { "d": 1, "c": 2 } } }"#,
        "{\n\t\"path\":\"/etc/nginx/nginx.conf\",\r\n\"sha256\":\"00\"}",
        #"{"esc":"quote \" backslash \\ slash \/ \b\f\n\r\t \u0001 \u001f \u0041 \u007f \u00e9 \ud83d\ude00"}"#,
        #"{"unicode":"Grüße, 東京, emoji 😀, combining é","ключ":"значение","é":1,"e\u0301":2}"#,
        #"{"a":1,"A":2,"_":3,"aa":4,"a ":5,"a!":6,"":7,"b":{"":[]}}"#,
        #"{"\u0041":1,"B":2}"#,
        #"{"k\"q":1,"k":2}"#,
        #"{"k\\":1,"k\n":2}"#,
        #"{"€":1,"𝄞":2,"ｚ":3}"#,
        #"{"dup":1,"dup":2}"#,
        #"{"d":1,"\u0064":2}"#,
        #"{"nested":{"dup":1,"dup":2}}"#,
        #"{"big":12345678901234567890,"tiny":1e-400,"huge":1e400}"#,
        #"{"lead":01}"#, #"{"x":-}"#, #"{"x":1.}"#, #"{"x":.5}"#, #"{"x":+1}"#,
        #"{"a":1,}"#, #"{"a" 1}"#, #"{"a":[1,]}"#, #"{"a":tru}"#, #"{"a":nulll}"#, "{\"a\":\"raw\u{01}control\"}",
        #"{"a":"\x"}"#, #"{"a":"\u12"}"#, #"{"a":"\udc00"}"#, #"{"a":"\ud800"}"#, #"{"a":"\ud800\u0041"}"#,
        #"{"a":1}x"#, #"{"a":1} "#, #" {"a":1}"#, #"{"a":1}{"b":2}"#, "[1,2]", "\"text\"", "42", "null", "", " ", "{",
        "not json", #"{"a":"unterminated}"#, #"{"a":1"#,
        String(repeating: "[", count: 64) + String(repeating: "]", count: 64),
        #"{"d":"# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}",
        #"{"d":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}",
        #"{"d":"# + String(repeating: "{\"x\":", count: 64) + "1" + String(repeating: "}", count: 64) + "}",
    ]

    @Test func fixedSamplesMatchTheGeneralEncoderByteForByte() throws {
        let sessions = [
            try SessionDescriptor(id: "s-1", tenant: tenant, principal: "https://idp.example#alice", target: "srv"),
            try SessionDescriptor(id: "S_2.x", tenant: tenant, principal: "https://idp.example#jürgen \"the admin\" \\ \u{7}\n😀", target: "srv"),
        ]
        for d in sessions {
            var enc = ActionRecordEncoder(session: d)
            for s in Self.samples {
                for kind in SessionEvent.Kind.allCases where kind.isPrivilegedAction { check(&enc, d, Array(s.utf8), kind: kind) }
            }
            for event: UInt64 in [0, 9, 10, 99, 1_000_000, (1 << 53) - 1, 1 << 53, (1 << 53) + 1, 1 << 60, UInt64.max] {
                check(&enc, d, Array(#"{"a":1}"#.utf8), event: event)
            }
            for t in [0, 1_780_000_000, 1_780_000_000.5, 1_780_000_000.0004, 1_780_000_000.9996, 4_102_444_799.999, -1.5] as [Double] {
                check(&enc, d, Array(#"{"a":1}"#.utf8), time: Date(timeIntervalSince1970: t))
            }
        }
    }

    @Test func sizeLimitIsTheParsers() throws {
        let d = try SessionDescriptor(id: "s-1", tenant: tenant, principal: "p", target: "t")
        var enc = ActionRecordEncoder(session: d)
        for size in [SessionEvent.maxActionBytes - 1, SessionEvent.maxActionBytes, SessionEvent.maxActionBytes + 1] {
            let pad = size - #"{"a":""}"#.utf8.count
            check(&enc, d, Array((#"{"a":""# + String(repeating: "x", count: pad) + #""}"#).utf8))
        }
    }

    /// Random objects with random layout (member order, whitespace, optional escapes), and
    /// random damage to them: same bytes or same refusal as the general path.
    @Test func randomDocumentsMatchTheGeneralEncoder() throws {
        var rng = SplitMix(seed: 0x5eed_1234)
        let d = try SessionDescriptor(id: "rand", tenant: tenant, principal: "https://idp.example#r", target: "t")
        var enc = ActionRecordEncoder(session: d)
        for round in 0..<3000 {
            var text = ""
            writeObject(&text, depth: 0, &rng)
            var bytes = Array(text.utf8)
            check(&enc, d, bytes, event: UInt64(round))
            if !bytes.isEmpty {
                switch rng.next() % 4 {
                case 0: bytes.remove(at: Int(rng.next() % UInt64(bytes.count)))
                case 1:
                    let damage = Array(",:{}[]\"\\ 0-e.\u{1}".utf8)
                    bytes.insert(damage[Int(rng.next() % UInt64(damage.count))], at: Int(rng.next() % UInt64(bytes.count)))
                case 2: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
                default: bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                check(&enc, d, bytes, event: UInt64(round))
            }
        }
    }

    @Test func recorderLogsTheSameBytesTheRecordDecodesTo() async throws {
        let s = try ScratchStore("action-bytes"); defer { s.cleanup() }
        let r = try await SessionRecorder.start(try s.descriptor(), in: s.store)
        // (A detail nested 63 or more levels deep is accepted, but its record is then deeper than
        // the 64 levels a reader parses; those samples stay in the byte comparisons above.)
        let valid = Self.samples.filter { (try? JSONParser.parse(Array($0.utf8), limits: JSONLimits(maxBytes: SessionEvent.maxActionBytes, maxDepth: 62)))?.objectValue != nil }
        #expect(valid.count >= 8)
        for text in valid { try r.offer(SessionEvent(kind: .configurationChange, time: Date(), data: Array(text.utf8))) }
        _ = try await r.finish(SessionEnding(exitStatus: 0))
        let dir = s.store.logDirectory(s.tenant)
        var seen = 0
        try dir.forEachRecord(in: 0..<(try s.store.writer(for: s.tenant).size)) { _, raw, _ in
            let rec = try EvidenceRecord(canonicalBytes: raw)
            guard rec.kind == "session.action" else { return }
            #expect(Array(raw) == rec.canonicalBytes())
            #expect(rec.body["detail"] == (try JSONParser.parse(Array(valid[seen].utf8))))
            seen += 1
        }
        #expect(seen == valid.count)
    }

    // MARK: random JSON

    private func writeObject(_ out: inout String, depth: Int, _ rng: inout SplitMix) {
        out += "{" + ws(&rng)
        let n = Int(rng.next() % (depth > 2 ? 3 : 6))
        var keys = Set<String>()
        for m in 0..<n {
            var k = randomText(&rng, keyLike: true)
            if keys.contains(k) && rng.next() % 8 != 0 { k += "\(m)" }  // now and then a duplicate
            keys.insert(k)
            if m > 0 { out += "," + ws(&rng) }
            out += quoted(k, &rng) + ws(&rng) + ":" + ws(&rng)
            writeValue(&out, depth: depth + 1, &rng)
            out += ws(&rng)
        }
        out += "}"
    }

    private func writeValue(_ out: inout String, depth: Int, _ rng: inout SplitMix) {
        switch rng.next() % (depth > 3 ? 5 : 7) {
        case 0: out += quoted(randomText(&rng, keyLike: false), &rng)
        case 1: out += ["true", "false", "null"][Int(rng.next() % 3)]
        case 2: out += ["0", "-0", "7", "-42", "123456789012345", "-999999999999999", "1234567890123456", "9007199254740993"][Int(rng.next() % 8)]
        case 3: out += ["1.5", "-0.0", "1e2", "1E+2", "2.5e-8", "1e21", "123.456e3", "0.1", "1e-7", "5e-324"][Int(rng.next() % 10)]
        case 4: out += quoted(String(repeating: "x", count: Int(rng.next() % 40)), &rng)
        case 5: writeObject(&out, depth: depth, &rng)
        default:
            out += "[" + ws(&rng)
            for i in 0..<Int(rng.next() % 4) {
                if i > 0 { out += "," + ws(&rng) }
                writeValue(&out, depth: depth + 1, &rng)
            }
            out += ws(&rng) + "]"
        }
    }

    private func randomText(_ rng: inout SplitMix, keyLike: Bool) -> String {
        let alphabet: [String] = keyLike
            ? ["a", "b", "c", "A", "Z", "_", "-", "0", "9", " ", "~", "é", "ß", "東", "😀", "\"", "\\", "\n", "/"]
            : ["a", "b", " ", "é", "东", "😀", "\u{301}", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1f}", "\u{7f}", "\u{2028}", "\u{ffff}"]
        let len = Int(rng.next() % (keyLike ? 4 : 12))
        let ascii = rng.next() % 2 == 0
        var s = ""
        for _ in 0..<len {
            var c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            if ascii && c.utf8.count > 1 { c = "x" }
            s += c
        }
        return s
    }

    /// JSON string literal of `s`, with a random choice of escapes.
    private func quoted(_ s: String, _ rng: inout SplitMix) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            let r = rng.next() % 4
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += r == 0 ? "\\u000a" : "\\n"
            case "\t": out += r == 0 ? "\\u0009" : "\\t"
            case "/": out += r == 0 ? "\\/" : "/"
            default:
                if u.value < 0x20 || r == 0 {
                    for unit in String(u).utf16 { out += String(format: "\\u%04x", unit) }
                } else if r == 1 && u.isASCII {
                    out += String(format: "\\u%04X", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    private func ws(_ rng: inout SplitMix) -> String { ["", "", "", " ", "\n", "\t ", "\r\n"][Int(rng.next() % 7)] }
}

/// A small deterministic generator, so a failure replays.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
