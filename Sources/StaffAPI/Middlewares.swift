import Hummingbird
import JSONDocument

/// 429 with `Retry-After` once a client (by IP address) has used up its token bucket.
/// `exempt` paths (the liveness probe) neither take a token nor are refused.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = StaffRequestContext
    let limiter: RateLimiter
    let exempt: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if exempt.contains(request.uri.path) { return try await next(request, context) }
        switch limiter.take(client: context.remoteIP ?? "unknown") {
        case .allowed:
            return try await next(request, context)
        case .limited(let retryAfter):
            var response = JSONResponse.make(.tooManyRequests, [
                "error": "rate limited", "reason": .string("too many requests from this address; retry in \(retryAfter) s"),
            ])
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
    }
}

/// 401 unless `Authorization: Bearer <token>` carries the configured token. The comparison
/// takes the same time wherever the first difference is.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = StaffRequestContext
    let token: [UInt8]
    let exempt: Set<String>

    init(token: String, exempt: Set<String>) {
        self.token = Array(token.utf8)
        self.exempt = exempt
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if exempt.contains(request.uri.path) { return try await next(request, context) }
        if let header = request.headers[.authorization], header.count > 7,
           header.prefix(7).lowercased() == "bearer ",
           BearerTokenMiddleware.constantTimeEqual(Array(header.dropFirst(7).utf8), token)
        {
            return try await next(request, context)
        }
        var response = JSONResponse.make(.unauthorized, ["error": "unauthorized", "reason": "a valid bearer token is required"])
        response.headers[.wwwAuthenticate] = "Bearer realm=\"wardgate\""
        return response
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0 && a.count == b.count
    }
}

/// 405 with `Allow` for a method other than GET or HEAD on a path the API serves, instead of the
/// router's 404: the path exists, the method does not. Paths are the router's patterns, where a
/// `:name` level matches any one level. Unknown paths go on to the router (404).
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = StaffRequestContext
    static let allowed: Set<HTTPRequest.Method> = [.get, .head]
    static let allowHeader = "GET, HEAD"

    let patterns: [[Substring]]
    /// Paths whose errors are FHIR OperationOutcomes.
    let fhirPaths: Set<String>

    init(paths: [String], fhirPaths: Set<String>) {
        patterns = paths.map { $0.split(separator: "/") }
        self.fhirPaths = fhirPaths
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !Self.allowed.contains(request.method), matches(request.uri.path) else { return try await next(request, context) }
        let reason = "\(request.method.rawValue) is not allowed on \(request.uri.path); it answers \(Self.allowHeader)"
        var response = fhirPaths.contains(request.uri.path)
            ? JSONResponse.fhir(.methodNotAllowed, OperationOutcome.make(severity: "error", code: "not-supported", diagnostics: reason))
            : JSONResponse.make(.methodNotAllowed, ["error": "method not allowed", "reason": .string(reason)])
        response.headers[.allow] = Self.allowHeader
        return response
    }

    func matches(_ path: String) -> Bool {
        let levels = path.split(separator: "/")
        return patterns.contains { pattern in
            pattern.count == levels.count && zip(pattern, levels).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }
    }
}
