import Foundation
import Hummingbird
import HummingbirdTesting
import JSONDocument
import StaffAPI
import Testing

/// What an operator's tools meet on the API over real HTTP: probes under load, wrong methods,
/// hostile query strings, and connections left open.
@Suite("Staff HTTP API: operator experience")
struct OperatorHTTPTests {
    @Test("/healthz is outside the rate limit: it answers 200 while every other route answers 429")
    func healthOutsideRateLimit() async throws {
        try await withServer(configure: { $0.rateLimit = .init(requestsPerSecond: 1.0 / 3600, burst: 2) }) { client, _ async throws in
            for _ in 0..<2 { #expect(try await client.get("/readyz").status == .ok) }
            #expect(try await client.get("/readyz").status == .tooManyRequests)
            #expect(try await client.get("/metrics").status == .tooManyRequests)
            // The liveness probe neither takes a token nor is refused for want of one.
            for _ in 0..<50 { #expect(try await client.get("/healthz").status == .ok) }
            #expect(try await client.get("/readyz").status == .tooManyRequests)
        }
    }

    @Test("another method on an existing route is 405 with Allow; an unknown path stays 404; HEAD works like GET")
    func methodNotAllowed() async throws {
        let routes = ["/healthz", "/readyz", "/metrics", "/v1/observations", "/v1/observations/0123/proof", "/v1/checkpoints/latest"]
        // Methods the HTTP parser knows; one it does not (say BREW) is a 400 from the parser itself.
        let methods: [HTTPRequest.Method] = [.post, .delete, .put, .patch, .options, .trace, HTTPRequest.Method("PROPFIND")!, HTTPRequest.Method("PURGE")!]
        // More requests than the default burst: the limit is not what this test is about.
        try await withServer(configure: { $0.rateLimit = .init(requestsPerSecond: 1000, burst: 1000) }) { client, _ in
            for path in routes {
                for method in methods {
                    let response = try await client.execute(TestClient.Request(path, method: method))
                    #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                    #expect(response.headers[.allow] == "GET, HEAD", "\(method) \(path)")
                }
                #expect(try await client.execute(TestClient.Request(path, method: .head)).status != .methodNotAllowed, "HEAD \(path)")
            }
            let fhir = try await client.execute(TestClient.Request("/v1/observations", method: .post))
            #expect(fhir.headers[.contentType] == "application/fhir+json")
            #expect(try json(fhir)["resourceType"] == "OperationOutcome")
            let plain = try await client.execute(TestClient.Request("/healthz", method: .delete))
            #expect(try json(plain)["error"] == "method not allowed")
            #expect(try await client.execute(TestClient.Request("/nowhere", method: .post)).status == .notFound)
            #expect(try await client.execute(TestClient.Request("/nowhere", method: .get)).status == .notFound)
            let head = try await client.execute(TestClient.Request("/healthz", method: .head))
            #expect(head.status == .ok)
        }
    }

    @Test("a device parameter with a NUL, another control character, or anything but a device id is 400, never a match")
    func hostileDeviceParameter() async throws {
        try await withServer { client, journal in
            try Fixture.store(journal, [("dev-2", 1_000), ("dev-3", 2_000)])
            let good = try json(try await client.get("/v1/observations?device=dev-2"))
            #expect(good["total"] == 1)
            let hostile = [
                "dev-2%00", "dev-2%00x", "%00dev-2", "dev-2%0A", "dev-2%0D%0A", "dev-2%09", "dev-2%1F", "dev-2%7F", "dev-2%C2%85",
                "dev-2%FF", "dev%2F2", "dev-2%20", "%20dev-2", "dev-2+", "dev-2%25", "dev-2%E2%80%8B", "-dev-2",
                String(repeating: "d", count: 129),
            ]
            for value in hostile {
                let response = try await client.get("/v1/observations?device=\(value)")
                #expect(response.status == .badRequest, "device=\(value)")
                #expect(response.headers[.contentType] == "application/fhir+json", "device=\(value)")
                let outcome = try json(response)
                #expect(outcome["resourceType"] == "OperationOutcome", "device=\(value)")
                let diagnostics = outcome["issue"]?.arrayValue?.first?["diagnostics"]?.stringValue ?? ""
                #expect(diagnostics.hasPrefix("device "), "device=\(value): \(diagnostics)")
                #expect(!diagnostics.unicodeScalars.contains { $0.properties.generalCategory == .control }, "device=\(value)")
            }
            let nul = try json(try await client.get("/v1/observations?device=dev-2%00"))
            #expect(nul["issue"]?.arrayValue?.first?["diagnostics"]?.stringValue?.contains("U+0000") == true)
            // The longest valid id is still a search (no match).
            let longest = try await client.get("/v1/observations?device=\(String(repeating: "d", count: 128))")
            #expect(longest.status == .ok)
            #expect(try json(longest)["total"] == 0)
        }
    }

    @Test("an idle connection is closed after http.idleTimeout, before or after a request")
    func idleConnectionsClosed() async throws {
        try await withServer(configure: { $0.idleTimeout = .seconds(1) }) { _, _, port in
            // A client that connects and sends nothing.
            let silent = await Sockets.exchangeOffPool(port: port, request: "", waitForClose: .seconds(30))
            #expect(silent?.closedByServer == true, "a silent connection stayed open")
            // A request head sent halfway, then nothing (slowloris).
            let partial = await Sockets.exchangeOffPool(port: port, request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", waitForClose: .seconds(30))
            #expect(partial?.closedByServer == true, "a half-sent request kept its connection")
            // A keep-alive request is answered, then the idle connection is closed.
            let keepAlive = await Sockets.exchangeOffPool(port: port, request: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", waitForClose: .seconds(30))
            #expect(keepAlive?.response.hasPrefix("HTTP/1.1 200") == true, "\(keepAlive?.response ?? "no connection")")
            #expect(keepAlive?.closedByServer == true, "an idle keep-alive connection stayed open")
        }
    }

    @Test("the idle timeout defaults to 60 s and must be positive")
    func idleTimeoutDefault() {
        #expect(StaffAPIConfiguration().idleTimeout == .seconds(60))
        var zero = StaffAPIConfiguration()
        zero.idleTimeout = .zero
        #expect(zero.problems().contains { $0.contains("idleTimeout") })
    }
}

extension Sockets {
    struct Exchange: Sendable {
        var response: String
        /// The server closed the connection (EOF) before `waitForClose` ran out.
        var closedByServer: Bool
    }

    static func exchangeOffPool(port: Int, request: String, waitForClose: Duration) async -> Exchange? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: exchange(port: port, request: request, waitForClose: waitForClose)) }
        }
    }

    /// Sends `request` raw on a new connection to 127.0.0.1:port, then reads until the server
    /// closes it or `waitForClose` passes without a byte; nil when nothing accepts the connection.
    static func exchange(port: Int, request: String, waitForClose: Duration) -> Exchange? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(waitForClose.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        if !request.isEmpty { _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) } }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return Exchange(response: String(decoding: data, as: UTF8.self), closedByServer: true) }
            if n < 0 { return Exchange(response: String(decoding: data, as: UTF8.self), closedByServer: errno == ECONNRESET) }
            data += buffer[0..<n]
        }
    }
}
