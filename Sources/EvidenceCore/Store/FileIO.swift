import Foundation

/// Thin, error-checked wrappers over the POSIX calls the stores rely on. Every failure names
/// the file and the operation, and says what to do for the common causes.
enum FileIO {
    static func open(_ path: String, _ flags: Int32, _ mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = Foundation.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno == EINTR { continue }
            throw EvidenceError.io("cannot open \(path)", errno: errno)
        }
    }

    static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, path: String) throws {
        var done = 0
        while done < n {
            let w = Foundation.write(fd, p + done, n - done)
            if w < 0 {
                if errno == EINTR { continue }
                throw EvidenceError.io("cannot write \(path)", errno: errno)
            }
            done += w
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path: path) }
    }

    /// Reads up to `n` bytes at `offset`; returns the count read (short only at end of file).
    static func pread(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int, at offset: Int64, path: String) throws -> Int {
        var done = 0
        while done < n {
            let r = Foundation.pread(fd, p + done, n - done, off_t(offset) + off_t(done))
            if r < 0 {
                if errno == EINTR { continue }
                throw EvidenceError.io("cannot read \(path)", errno: errno)
            }
            if r == 0 { break }
            done += r
        }
        return done
    }

    static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let size = try self.size(fd, path: path)
        guard size <= Int64(limit) else {
            throw EvidenceError(.malformedInput, "\(path) is \(size) bytes, more than the \(limit) bytes allowed for this file")
        }
        var out = [UInt8](repeating: 0, count: Int(size))
        let n = try out.withUnsafeMutableBytes { try pread(fd, $0.baseAddress!, Int(size), at: 0, path: path) }
        return Array(out.prefix(n))
    }

    static func size(_ fd: Int32, path: String) throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EvidenceError.io("cannot stat \(path)", errno: errno) }
        return Int64(st.st_size)
    }

    static func syncData(_ fd: Int32, path: String) throws {
        guard fdatasync(fd) == 0 else { throw EvidenceError.io("cannot flush \(path) to disk", errno: errno) }
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw EvidenceError.io("cannot flush \(path) to disk", errno: errno) }
    }

    /// fsync on a directory, so that a created, renamed or linked entry survives a crash.
    static func syncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd, path: path)
    }

    static func truncate(_ fd: Int32, to size: Int64, path: String) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw EvidenceError.io("cannot cut \(path) to \(size) bytes", errno: errno) }
    }

    static func makeDirectory(_ path: String) throws {
        if mkdir(path, 0o750) != 0 && errno != EEXIST { throw EvidenceError.io("cannot create folder \(path)", errno: errno) }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func list(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw EvidenceError.io("cannot list \(path)", errno: errno) }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }

    /// Writes a new file that must not exist yet: temp file, fsync, read-only, hard link to
    /// the final name (atomic create-if-absent), directory fsync. Returns false if `path`
    /// already existed (nothing is overwritten).
    static func createImmutable(_ path: String, bytes: UnsafeRawBufferPointer, mode: mode_t = 0o444) throws -> Bool {
        let dir = (path as NSString).deletingLastPathComponent
        let tmp = dir + "/.tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = try open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        var linked = false
        defer { unlink(tmp) }
        do {
            defer { close(fd) }
            if bytes.count > 0 { try writeAll(fd, bytes.baseAddress!, bytes.count, path: tmp) }
            try sync(fd, path: tmp)
            guard fchmod(fd, mode) == 0 else { throw EvidenceError.io("cannot make \(tmp) read-only", errno: errno) }
        }
        if link(tmp, path) == 0 { linked = true } else if errno != EEXIST {
            throw EvidenceError.io("cannot create \(path)", errno: errno)
        }
        try syncDirectory(dir)
        return linked
    }
}
