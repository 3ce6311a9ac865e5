import EvidenceCore
import Foundation

/// A file attached to a submission (the report PDF next to the JSON).
public struct PortalAttachment: Hashable, Sendable {
    public var name: String
    public var bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
}

/// The file-drop "portal": writes the portal-ready JSON (and its attachments) into a folder
/// that a person or a mail/upload job takes to the authority.
///
/// Files: `<incident>_<stage>_<sha256 prefix>.json` and `…_<attachment name>` beside it.
/// The receipt's reference is the JSON file's name; its digest is SHA-256 of the JSON bytes.
///
/// Guarantees: a file is written to a temporary name, fsync'd, then linked into place without
/// replacing anything, so a reader never sees half a file; the same submission again
/// (same incident, stage and payload digest) returns the same receipt without writing;
/// a different file already under the name is refused, never overwritten.
public struct FileDropPortal: RegulatorPortal {
    public let folder: String
    public let clock: any WallClock
    public var name: String { "file-drop:" + folder }

    public init(folder: String, clock: any WallClock = SystemWallClock()) {
        self.folder = folder; self.clock = clock
    }

    public func submit(_ s: RegulatorSubmission) async throws -> RegulatorReceipt {
        try await submit(s, attachments: [])
    }

    public func submit(_ s: RegulatorSubmission, attachments: [PortalAttachment]) async throws -> RegulatorReceipt {
        let digest = PortableSHA256().hash(bytes: s.payload)
        let base = Self.safe(s.incidentID) + "_" + Self.safe(s.stage) + "_" + String(digest.hex.prefix(16))
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw PortalError(.dropFolder, "cannot create the drop folder \(folder): \(error.localizedDescription); check the path and its permissions")
        }
        for a in attachments { try place(a.bytes, as: base + "_" + Self.safe(a.name)) }
        try place(s.payload, as: base + ".json")
        return RegulatorReceipt(portal: name, reference: base + ".json", receivedAt: clock.now(), payloadSHA256: digest)
    }

    /// Writes `bytes` under `file` once; the same bytes already there count as done.
    private func place(_ bytes: [UInt8], as file: String) throws {
        let path = folder + "/" + file
        if let existing = FileManager.default.contents(atPath: path) {
            guard Array(existing) == bytes else {
                throw PortalError(.dropFolder, "\(path) exists with different content; a dropped report is never overwritten — move it away if it is stale")
            }
            return
        }
        let tmp = folder + "/.\(file).\(getpid()).tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PortalError(.dropFolder, "cannot write \(tmp): \(String(cString: strerror(errno)))") }
        defer { unlink(tmp) }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 { if errno == EINTR { continue }; let e = errno; close(fd); throw PortalError(.dropFolder, "cannot write \(tmp): \(String(cString: strerror(e)))") }
            off += n
        }
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw PortalError(.dropFolder, "cannot flush \(tmp): \(String(cString: strerror(e)))") }
        close(fd)
        guard link(tmp, path) == 0 else {
            throw PortalError(.dropFolder, "cannot place \(path): \(String(cString: strerror(errno))) (another writer at the same time?)")
        }
        let dfd = open(folder, O_RDONLY | O_DIRECTORY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    static func safe(_ s: String) -> String {
        String(s.prefix(64).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") ? $0 : "_" })
    }
}
