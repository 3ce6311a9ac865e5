import Foundation

/// The byte layout of one recording chunk object (documented in Docs/Recording.md).
///
/// ```
/// chunk  = magic "NIS2REC1" (8 bytes) || firstEvent (u64 BE) || frame*
/// frame  = kind (u8) || offset µs since session start (i64 BE) || length (u32 BE) || data
/// ```
/// Events in a chunk are consecutive: the n-th frame is event `firstEvent + n`. The chunk is
/// stored under its own SHA-256 and the `session.chunk` record cites that digest, so a reader
/// checks the bytes before it decodes them.
public enum ChunkFormat {
    public static let magic: [UInt8] = Array("NIS2REC1".utf8)
    public static let headerBytes = 16
    public static let frameOverhead = 13
    /// Largest single event data the format (and the decoder) accepts.
    public static let maxEventBytes = 16 << 20

    /// Stable one-byte codes of the event kinds; never renumbered.
    public static func code(_ k: SessionEvent.Kind) -> UInt8 {
        switch k {
        case .output: 1; case .input: 2; case .maskedInput: 3; case .resize: 4; case .command: 5
        case .fileTransfer: 6; case .configurationChange: 7; case .elevation: 8; case .marker: 9
        }
    }

    public static func kind(_ code: UInt8) -> SessionEvent.Kind? {
        SessionEvent.Kind.allCases.first { Self.code($0) == code }
    }

    static func appendHeader(firstEvent: UInt64, to out: inout [UInt8]) {
        out.append(contentsOf: magic)
        withUnsafeBytes(of: firstEvent.bigEndian) { out.append(contentsOf: $0) }
    }

    static func appendFrame(kind: SessionEvent.Kind, offsetMicros: Int64, data: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(code(kind))
        withUnsafeBytes(of: offsetMicros.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(data.count).bigEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: data)
    }

    /// One decoded frame; `data` points into the chunk bytes (valid inside the callback only).
    public struct Frame {
        public var sequence: UInt64
        public var kind: SessionEvent.Kind
        public var offsetMicros: Int64
        public var data: UnsafeRawBufferPointer
    }

    /// Walks the frames of a chunk; refuses anything not exactly in this format (bounded:
    /// every length is checked against the remaining bytes before it is used).
    public static func forEachFrame(_ chunk: [UInt8], _ body: (Frame) throws -> Void) throws {
        try chunk.withUnsafeBytes { raw in
            guard raw.count >= headerBytes, Array(raw[0..<8]) == magic else {
                throw EvidenceError.verification("not a recording chunk (bad magic)")
            }
            func u64(_ o: Int) -> UInt64 { UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
            var seq = u64(8)
            var p = headerBytes
            while p < raw.count {
                guard raw.count - p >= frameOverhead else { throw EvidenceError.verification("recording chunk ends inside a frame header at byte \(p)") }
                guard let k = kind(raw[p]) else { throw EvidenceError.verification("recording chunk has an unknown event kind \(raw[p]) at byte \(p)") }
                let off = Int64(bitPattern: u64(p + 1))
                let len = Int(UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: p + 9, as: UInt32.self)))
                p += frameOverhead
                guard len <= maxEventBytes, len <= raw.count - p else { throw EvidenceError.verification("recording chunk frame of \(len) bytes runs past the chunk end") }
                try body(Frame(sequence: seq, kind: k, offsetMicros: off, data: UnsafeRawBufferPointer(rebasing: raw[p..<(p + len)])))
                p += len
                seq += 1
            }
        }
    }
}
