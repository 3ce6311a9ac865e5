import EvidenceCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `PortalHTTPTransport` on URLSession: one ephemeral session per request (no cookies, no
/// cache), the body collected by a delegate that cancels the task as soon as it passes the
/// bound, so an endless or huge answer never fills memory.
public struct URLSessionPortalTransport: PortalHTTPTransport {
    public init() {}

    public func post(_ url: URL, headers: [String: String], body: [UInt8], timeout: Duration, maxResponseBytes: Int) async throws -> PortalHTTPResponse {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        request.timeoutInterval = seconds
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = seconds
        config.timeoutIntervalForResource = seconds
        config.httpCookieStorage = nil
        config.urlCache = nil
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<PortalHTTPResponse, Error>) in
            let collector = BoundedBodyCollector(limit: maxResponseBytes, url: url, continuation: k)
            let session = URLSession(configuration: config, delegate: collector, delegateQueue: nil)
            session.dataTask(with: request).resume()
            session.finishTasksAndInvalidate()
        }
    }
}

/// Collects one response body up to a bound and resumes the continuation exactly once.
final class BoundedBodyCollector: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: URLSession calls a delegate serially on its own delegate queue; the mutable
    // fields are additionally guarded by `lock`, and `continuation` is resumed at most once
    // (`finished` is checked and set under the lock).
    private let lock = NSLock()
    private let limit: Int
    private let url: URL
    private var body: [UInt8] = []
    private var response: HTTPURLResponse?
    private var finished = false
    private var continuation: CheckedContinuation<PortalHTTPResponse, Error>?

    init(limit: Int, url: URL, continuation: CheckedContinuation<PortalHTTPResponse, Error>) {
        self.limit = limit; self.url = url; self.continuation = continuation
    }

    private func finish(_ result: Result<PortalHTTPResponse, Error>) {
        lock.lock()
        guard !finished, let k = continuation else { lock.unlock(); return }
        finished = true; continuation = nil
        lock.unlock()
        k.resume(with: result)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.lock(); self.response = response as? HTTPURLResponse; lock.unlock()
        if response.expectedContentLength > Int64(limit) {
            finish(.failure(PortalError(.badReceipt, "\(url.absoluteString) announced a \(response.expectedContentLength)-byte answer; a receipt is at most \(limit) bytes")))
            completionHandler(.cancel)
            return
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        let over = body.count + data.count > limit
        if !over { body.append(contentsOf: data) }
        lock.unlock()
        if over {
            finish(.failure(PortalError(.badReceipt, "\(url.absoluteString) sent more than \(limit) bytes; a receipt is at most \(limit) bytes")))
            dataTask.cancel()
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error { finish(.failure(error)); return }
        lock.lock()
        let r = response, b = body
        lock.unlock()
        guard let r else { finish(.failure(PortalError(.badReceipt, "\(url.absoluteString) gave no HTTP response"))); return }
        var headers: [String: String] = [:]
        for (k, v) in r.allHeaderFields { if let k = k as? String, let v = v as? String { headers[k] = v } }
        finish(.success(PortalHTTPResponse(status: r.statusCode, headers: headers, body: b)))
    }
}
