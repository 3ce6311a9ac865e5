import Foundation

/// What stopped a segment scan before the end of the file.
public enum FrameProblem: Equatable, Sendable, CustomStringConvertible {
    /// The file ends inside a frame: `missing` bytes are absent (a torn write, or truncation).
    case truncated(index: UInt64, offset: Int64, missing: Int64)
    /// A length field outside 1...maxRecordBytes.
    case badLength(index: UInt64, offset: Int64, length: UInt32)
    /// The record's bytes do not match its check bytes (a flipped byte, or a torn write).
    case checkMismatch(index: UInt64, offset: Int64)

    public var offset: Int64 {
        switch self { case .truncated(_, let o, _), .badLength(_, let o, _), .checkMismatch(_, let o): o }
    }
    public var index: UInt64 {
        switch self { case .truncated(let i, _, _), .badLength(let i, _, _), .checkMismatch(let i, _): i }
    }
    public var description: String {
        switch self {
        case .truncated(let i, let o, let m): "record \(i) at byte \(o) is cut short (\(m) bytes missing)"
        case .badLength(let i, let o, let l): "record \(i) at byte \(o) has an impossible length \(l)"
        case .checkMismatch(let i, let o): "record \(i) at byte \(o) does not match its check bytes (altered or torn)"
        }
    }
}

/// The outcome of reading one segment file from start to end.
public struct SegmentScan: Sendable {
    public var firstIndex: UInt64
    public var count: UInt64
    /// Byte offset just past the last good frame.
    public var validEnd: Int64
    public var fileSize: Int64
    public var problem: FrameProblem?
}

/// Reads the frames of a segment file sequentially with large buffered reads, checking each
/// frame's length bound and check bytes, and hands out each record with its leaf hash.
public struct SegmentScanner {
    public let backend: any SHA256Backend
    public var readChunk = 8 << 20

    public init(backend: any SHA256Backend) { self.backend = backend }

    /// Scans `path`. `body` gets (index, record bytes, leaf hash); return false to stop early.
    /// Throws only for I/O errors and a bad header; frame damage is reported in the result.
    public func scan(path: String, expectedFirstIndex: UInt64?,
                     body: (UInt64, UnsafeRawBufferPointer, Digest) throws -> Bool) throws -> SegmentScan {
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        let fileSize = try FileIO.size(fd, path: path)
        var header = [UInt8](repeating: 0, count: SegmentFormat.headerBytes)
        let hn = try header.withUnsafeMutableBytes { try FileIO.pread(fd, $0.baseAddress!, SegmentFormat.headerBytes, at: 0, path: path) }
        let name = (path as NSString).lastPathComponent
        guard hn == SegmentFormat.headerBytes, let first = header.withUnsafeBytes({ SegmentFormat.parseHeader($0) }) else {
            throw EvidenceError.verification("segment \(name): missing or damaged header (expected \"N2EVSEG1\" and a first index)")
        }
        if let e = expectedFirstIndex, e != first {
            throw EvidenceError.verification("segment \(name): header says it starts at record \(first), but the log needs record \(e) here (a segment was deleted, renamed or reordered)")
        }
        var result = SegmentScan(firstIndex: first, count: 0, validEnd: Int64(SegmentFormat.headerBytes), fileSize: fileSize, problem: nil)

        var buf = UnsafeMutableRawBufferPointer.allocate(byteCount: readChunk, alignment: 16)
        defer { buf.deallocate() }
        var bufStart: Int64 = Int64(SegmentFormat.headerBytes)  // file offset of buf[0]
        var have = 0
        var pos = 0
        var index = first
        var eof = false

        func refill(needing n: Int) throws {
            // Move the unread tail to the front, grow if one frame needs more, read more.
            if pos > 0 {
                if have > pos { (buf.baseAddress!).copyMemory(from: buf.baseAddress! + pos, byteCount: have - pos) }
                bufStart += Int64(pos); have -= pos; pos = 0
            }
            if n > buf.count {
                let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 16)
                bigger.baseAddress!.copyMemory(from: buf.baseAddress!, byteCount: have)
                buf.deallocate(); buf = bigger
            }
            while have < n && !eof {
                let r = try FileIO.pread(fd, buf.baseAddress! + have, buf.count - have, at: bufStart + Int64(have), path: path)
                if r == 0 { eof = true }
                have += r
            }
        }

        while true {
            if have - pos < 4 { try refill(needing: 4) }
            let offset = bufStart + Int64(pos)
            if have - pos == 0 { break }
            if have - pos < 4 {
                result.problem = .truncated(index: index, offset: offset, missing: Int64(4 - (have - pos)))
                break
            }
            let len = UInt32(bigEndian: buf.loadUnaligned(fromByteOffset: pos, as: UInt32.self))
            guard len >= 1 && Int(len) <= SegmentFormat.maxRecordBytes else {
                result.problem = .badLength(index: index, offset: offset, length: len)
                break
            }
            let frame = Int(len) + SegmentFormat.frameOverhead
            if have - pos < frame { try refill(needing: frame) }
            if have - pos < frame {
                result.problem = .truncated(index: index, offset: offset, missing: Int64(frame - (have - pos)))
                break
            }
            let rec = UnsafeRawBufferPointer(start: buf.baseAddress! + pos + 4, count: Int(len))
            let leaf = backend.hash(prefix: 0x00, rec)
            let check = UInt64(bigEndian: buf.loadUnaligned(fromByteOffset: pos + 4 + Int(len), as: UInt64.self))
            guard check == SegmentFormat.checkBytes(leaf) else {
                result.problem = .checkMismatch(index: index, offset: offset)
                break
            }
            pos += frame
            result.count += 1
            result.validEnd = bufStart + Int64(pos)
            let goOn = try body(index, rec, leaf)
            index += 1
            if !goOn { break }
        }
        return result
    }
}
