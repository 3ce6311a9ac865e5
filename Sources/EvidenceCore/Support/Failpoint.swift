import Foundation

/// Named stopping points for crash tests of code that runs in its own process.
///
/// A process started with `NIS2_FAILPOINTS="name=N[,name=N…]"` stops the N-th time it
/// reaches `name`: it prints `failpoint <name> reached` on standard error and sleeps until it
/// is killed, so a test can SIGKILL it at exactly that point instead of guessing with timers.
/// Without the variable a failpoint is one lookup in an empty dictionary.
public enum Failpoint {
    private static let armed: [String: Int] = {
        guard let spec = ProcessInfo.processInfo.environment["NIS2_FAILPOINTS"] else { return [:] }
        var out: [String: Int] = [:]
        for item in spec.split(separator: ",") {
            let kv = item.split(separator: "=", maxSplits: 1)
            out[String(kv[0])] = kv.count == 2 ? Int(kv[1]) ?? 1 : 1
        }
        return out
    }()
    private static let lock = NSLock()
    // Guarded by `lock`.
    nonisolated(unsafe) private static var hits: [String: Int] = [:]

    public static func reach(_ name: String) {
        guard let stopAt = armed[name] else { return }
        lock.lock()
        hits[name, default: 0] += 1
        let stop = hits[name] == stopAt
        lock.unlock()
        guard stop else { return }
        FileHandle.standardError.write(Data("failpoint \(name) reached\n".utf8))
        while true { sleep(3600) }
    }
}
