import EvidenceCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local progress file of one tenant's replication to one destination: an append-only
/// list of lines, each either a receipt that was recorded in the log (with the record's
/// index) or `{"scannedTo":N}` (the log was searched for receipts up to record N).
///
/// It is only a cache of the log: after a crash between a `replication.uploaded` record and
/// its progress line, `load` finds the record again by scanning the log from the last index
/// the file knows. A torn last line (a crash while writing it) is cut on load.
/// Memory: one receipt per replicated key.
struct ReplicationProgress {
    let path: String
    private(set) var recorded: [String: ReplicationReceipt] = [:]
    /// Every record below this index has been looked at for receipts.
    private(set) var scannedTo: UInt64 = 0

    /// Reads the file (creating its folder), cutting a torn last line.
    init(path: String, destination: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.fileExists(atPath: path) else { return }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count <= 1 << 30 else {
            throw EvidenceError(.malformedInput, "replication progress file \(path) is larger than 1 GiB; it is not ours (delete it: it is rebuilt from the log)")
        }
        var lineStart = 0
        var goodEnd = 0
        let bytes = [UInt8](data)
        for i in bytes.indices where bytes[i] == 0x0a {
            let line = bytes[lineStart..<i]
            lineStart = i + 1
            guard case .object(let o)? = try? JSONParser.parse(Array(line), limits: JSONLimits(maxBytes: 1 << 16)) else { break }
            if let n = o["scannedTo"]?.numberValue {
                scannedTo = max(scannedTo, UInt64(n))
            } else if let k = o["key"]?.stringValue, let h = o["sha256"]?.stringValue, let sha = Digest(hex: h),
                      let size = o["size"]?.numberValue, let index = o["index"]?.numberValue {
                recorded[k] = ReplicationReceipt(destination: destination, key: k, versionID: o["versionId"]?.stringValue, sha256: sha, size: UInt64(size))
                scannedTo = max(scannedTo, UInt64(index) + 1)
            } else {
                break
            }
            goodEnd = i + 1
        }
        if goodEnd < bytes.count {
            guard truncate(path, off_t(goodEnd)) == 0 else {
                throw EvidenceError(.io, "cannot cut the torn tail of \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Adds a receipt recorded at log index `index` (durably: written and fsync'd).
    mutating func add(_ r: ReplicationReceipt, index: UInt64) throws {
        var o: [String: JSONValue] = ["key": .string(r.key), "sha256": .string(r.sha256.hex), "size": .number(Double(r.size)),
                                      "index": .number(Double(index))]
        if let v = r.versionID { o["versionId"] = .string(v) }
        try appendLine(.object(o))
        recorded[r.key] = r
        scannedTo = max(scannedTo, index + 1)
    }

    /// Adds a receipt found in the log by a scan (it is already recorded there).
    mutating func adopt(_ r: ReplicationReceipt, index: UInt64) throws { try add(r, index: index) }

    mutating func markScanned(to n: UInt64) throws {
        guard n > scannedTo else { return }
        try appendLine(.object(["scannedTo": .number(Double(n))]))
        scannedTo = n
    }

    private func appendLine(_ v: JSONValue) throws {
        let line = JCS.canonicalize(v) + [0x0a]
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EvidenceError(.io, "cannot open replication progress file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let n = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == line.count, fsync(fd) == 0 else {
            throw EvidenceError(.io, "cannot write replication progress file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
