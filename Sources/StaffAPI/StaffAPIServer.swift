import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import JSONDocument
import Journal
import Logging
import ServiceLifecycle
import Synchronization
import Timing

/// The request context: Hummingbird's core storage plus the client's IP address (the key of
/// the per-client rate limit).
public struct StaffRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress
    }
}

/// What the gateway plugs into the API beyond the journal. The API module knows nothing of the
/// gateway: everything it serves about the running daemon comes through these closures.
public struct StaffAPIHooks: Sendable {
    /// The `fullUrl` of an Observation entry, from its id (the same form `wardgate export` uses).
    public var fullUrl: @Sendable (String) -> String
    /// Extra entries for a search page, e.g. the Provenance (device signature) of each signed
    /// Observation: full entries (`fullUrl`, `resource`); the API marks them `search.mode = include`.
    public var includes: @Sendable ([StoredObservation]) -> [JSONValue]
    /// `GET /v1/observations/{id}/proof`: the proof bundle of an Observation. While nil itself,
    /// the route answers 501 (no Merkle log to prove against).
    public var proof: (@Sendable (String) async -> ProofLookup)?
    /// `GET /v1/checkpoints/latest`: the latest signed checkpoint note (text/plain), or nil when
    /// there is none yet (404). While nil itself, the route answers 501.
    public var latestCheckpoint: (@Sendable () async throws -> String?)?

    public init(
        fullUrl: @escaping @Sendable (String) -> String = ObservationSearch.defaultFullUrl,
        includes: @escaping @Sendable ([StoredObservation]) -> [JSONValue] = { _ in [] },
        proof: (@Sendable (String) async -> ProofLookup)? = nil,
        latestCheckpoint: (@Sendable () async throws -> String?)? = nil
    ) {
        self.fullUrl = fullUrl
        self.includes = includes
        self.proof = proof
        self.latestCheckpoint = latestCheckpoint
    }
}

/// What the proof hook found for an Observation id.
public enum ProofLookup: Sendable, Equatable {
    /// The proof bundle (200).
    case bundle(JSONValue)
    /// No such Observation, or one that will never be in the log (quarantined): 404.
    case notFound(String)
    /// In the log but not yet covered by a signed checkpoint: 409 with `Retry-After`.
    case notYet(String)
    /// Anything else: 500 with the reason.
    case failed(String)
}

/// The staff HTTP API (Hummingbird 2): health, readiness, metrics, FHIR search, proofs. One
/// `Service` in the daemon's service group; it runs once.
///
/// ```
/// GET /healthz                       200 while the process runs (no authentication)
/// GET /readyz                        200, or 503 with the failing checks
/// GET /metrics                       Prometheus text
/// GET /v1/observations?device=&since=&_count=   FHIR R4 Bundle (searchset)
/// GET /v1/observations/{id}/proof    proof bundle (501 without a proof hook)
/// GET /v1/checkpoints/latest         latest signed checkpoint note (501 without a hook)
/// ```
public final class StaffAPIServer: Service {
    public let configuration: StaffAPIConfiguration
    let journal: Journal
    let metricsText: @Sendable () -> String
    let readiness: @Sendable () async -> Readiness
    let hooks: StaffAPIHooks
    let logger: Logger
    let limiter: RateLimiter
    private let tlsConfiguration: TLSConfiguration?
    /// The port `run()` bound, for `waitUntilListening()`.
    private let bound = PortPromise()

    /// Refuses configurations that would expose the API unauthenticated, and loads TLS material.
    public init(configuration: StaffAPIConfiguration, journal: Journal, metricsText: @escaping @Sendable () -> String,
                readiness: @escaping @Sendable () async -> Readiness, hooks: StaffAPIHooks = StaffAPIHooks(),
                logger: Logger) throws(StaffAPIError) {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw .refused(problems) }
        self.configuration = configuration
        self.journal = journal
        self.metricsText = metricsText
        self.readiness = readiness
        self.hooks = hooks
        self.logger = logger
        self.limiter = RateLimiter(requestsPerSecond: configuration.rateLimit.requestsPerSecond, burst: configuration.rateLimit.burst)
        if let tls = configuration.tls {
            tlsConfiguration = try StaffAPIServer.serverTLS(tls)
        } else {
            tlsConfiguration = nil
        }
    }

    static func serverTLS(_ tls: StaffAPIConfiguration.TLS) throws(StaffAPIError) -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certFile)
            guard !chain.isEmpty else { throw StaffAPIError.tls("no certificate in \(tls.certFile)") }
            let key = try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)
            var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
            config.minimumTLSVersion = .tlsv12
            if let clientCA = tls.clientCAFile {
                let roots = try NIOSSLCertificate.fromPEMFile(clientCA)
                guard !roots.isEmpty else { throw StaffAPIError.tls("no certificate in \(clientCA)") }
                config.trustRoots = .certificates(roots)
                // A server that verifies peers requires a client certificate: without one the
                // handshake fails. Host names are not checked for clients.
                config.certificateVerification = .noHostnameVerification
            }
            return config
        } catch let error as StaffAPIError {
            throw error
        } catch {
            throw .tls("\(error)")
        }
    }

    /// Binds and serves until the service group shuts down gracefully: then it stops accepting,
    /// finishes the requests in flight and closes idle connections. Throws when it cannot listen.
    public func run() async throws {
        let server: HTTPServerBuilder
        // The idle timer runs from the connection's start and from each response: a client that
        // connects and says nothing, sends half a request head, or keeps an idle keep-alive
        // connection is closed once it passes.
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .nanoseconds(configuration.idleTimeout.inNanoseconds)))
        if let tlsConfiguration {
            do { server = try .tls(http1, tlsConfiguration: tlsConfiguration) } catch { throw fail(.tls("\(error)")) }
        } else {
            server = http1
        }
        var appLogger = logger
        appLogger.logLevel = max(logger.logLevel, .notice)
        let app = Application(
            router: makeRouter(),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { [self] channel in listening(port: channel.localAddress?.port ?? 0) },
            logger: appLogger)
        do {
            try await app.run()
        } catch {
            throw fail(.cannotListen("\(configuration.host):\(configuration.port): \(error)"))
        }
        bound.resolve(.failure(.cannotListen("\(configuration.host):\(configuration.port): the server stopped before it listened")))
    }

    /// The bound port once the server listens (`run()` is running); throws if it cannot.
    public func waitUntilListening() async throws(StaffAPIError) -> Int {
        try await bound.value().get()
    }

    private func fail(_ error: StaffAPIError) -> StaffAPIError {
        bound.resolve(.failure(error))
        return error
    }

    private func listening(port: Int) {
        bound.resolve(.success(port))
        logger.notice("HTTP API listening", metadata: [
            "address": "\(configuration.host):\(port)", "tls": "\(configuration.tls != nil)",
            "mTLS": "\(configuration.tls?.clientCAFile != nil)", "bearerToken": "\(configuration.bearerToken != nil)",
        ])
        if !configuration.isLoopback && configuration.tls == nil {
            logger.warning("the HTTP API takes its bearer token over plain HTTP on a network address: anyone on the path can read it; configure http.tls")
        }
    }

    // MARK: Routes

    func makeRouter() -> Router<StaffRequestContext> {
        let routes = self.routes()
        let router = Router(context: StaffRequestContext.self, options: .autoGenerateHeadEndpoints)
        // The liveness probe stays outside the rate limit: a client over its limit must not make
        // the process look dead to whoever watches it.
        router.add(middleware: RateLimitMiddleware(limiter: limiter, exempt: [Self.healthPath]))
        router.add(middleware: MethodNotAllowedMiddleware(paths: routes.map(\.path), fhirPaths: [Self.searchPath]))
        if let token = configuration.bearerToken {
            router.add(middleware: BearerTokenMiddleware(token: token, exempt: [Self.healthPath]))
        }
        for route in routes { router.get(RouterPath(route.path), use: route.handler) }
        return router
    }

    static let healthPath = "/healthz"
    static let searchPath = "/v1/observations"

    struct Route {
        let path: String
        let handler: @Sendable (Request, StaffRequestContext) async throws -> Response
    }

    /// Every route, all answering GET (and HEAD); any other method on them is 405.
    func routes() -> [Route] {
        [
            Route(path: Self.healthPath) { _, _ in JSONResponse.make(.ok, ["status": "alive"]) },
            Route(path: "/readyz") { [readiness] _, _ in
                let state = await readiness()
                return JSONResponse.make(state.isReady ? .ok : .serviceUnavailable, state.json)
            },
            Route(path: "/metrics") { [metricsText] _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: metricsText())))
            },
            Route(path: Self.searchPath) { [self] request, _ in try searchObservations(request) },
            Route(path: "/v1/observations/:id/proof") { [hooks] _, context in
                await Self.proof(hooks: hooks, id: context.parameters.get("id") ?? "")
            },
            Route(path: "/v1/checkpoints/latest") { [hooks] _, _ in
                guard let latest = hooks.latestCheckpoint else {
                    return JSONResponse.notImplemented("this gateway serves no checkpoints: no Merkle log is wired to the API")
                }
                guard let note = try await latest() else {
                    return JSONResponse.make(.notFound, ["error": "no checkpoint yet"])
                }
                return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: note)))
            },
        ]
    }

    static func proof(hooks: StaffAPIHooks, id: String) async -> Response {
        guard let proof = hooks.proof else {
            return JSONResponse.notImplemented("this gateway serves no inclusion proofs: no Merkle log is wired to the API")
        }
        switch await proof(id) {
        case .bundle(let body):
            return JSONResponse.make(.ok, body)
        case .notFound(let reason):
            return JSONResponse.make(.notFound, ["error": "not found", "reason": .string(reason)])
        case .notYet(let reason):
            var response = JSONResponse.make(.conflict, ["error": "not yet provable", "reason": .string(reason)])
            response.headers[.retryAfter] = "1"
            return response
        case .failed(let reason):
            return JSONResponse.make(.internalServerError, ["error": "proof failed", "reason": .string(reason)])
        }
    }

    func searchObservations(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
        let search: ObservationSearch
        switch ObservationSearch.parse(query, defaultCount: configuration.defaultPageSize, maxCount: configuration.maxPageSize) {
        case .success(let s): search = s
        case .failure(let error):
            return JSONResponse.fhir(.badRequest, OperationOutcome.make(severity: "error", code: "invalid", diagnostics: error.message))
        }
        do {
            let (page, truncated) = try search.run(on: journal)
            let bundle = try search.bundle(
                page: page, truncated: truncated, selfURL: request.uri.description, includes: hooks.includes(page), fullUrl: hooks.fullUrl)
            return JSONResponse.fhir(.ok, bundle)
        } catch {
            logger.error("observation search failed", metadata: ["reason": "\(error)"])
            return JSONResponse.fhir(.internalServerError, OperationOutcome.make(severity: "error", code: "exception", diagnostics: "the journal could not be read"))
        }
    }
}

enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ body: JSONValue, contentType: String = "application/json") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: body.serialized)))
    }

    static func fhir(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        make(status, body, contentType: "application/fhir+json")
    }

    static func notImplemented(_ reason: String) -> Response {
        make(.notImplemented, ["error": "not implemented", "reason": .string(reason)])
    }
}

/// One result delivered once: the bound port, or why the server could not listen.
final class PortPromise: Sendable {
    typealias Outcome = Result<Int, StaffAPIError>
    private let state = Mutex<(result: Outcome?, waiters: [CheckedContinuation<Outcome, Never>])>((nil, []))

    func resolve(_ result: Outcome) {
        let waiters = state.withLock { s -> [CheckedContinuation<Outcome, Never>] in
            if s.result != nil { return [] }
            s.result = result
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }

    func value() async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Outcome? in
                if let result = s.result { return result }
                s.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
