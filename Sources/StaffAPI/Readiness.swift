import JSONDocument

/// Whether the gateway can take and keep readings right now, check by check.
public struct Readiness: Sendable, Hashable {
    public struct Check: Sendable, Hashable {
        /// `broker`, `journal`, `quota`, ...
        public var name: String
        public var ok: Bool
        /// Why it is not ok (or a short note when it is).
        public var detail: String?

        public init(name: String, ok: Bool, detail: String? = nil) {
            self.name = name
            self.ok = ok
            self.detail = detail
        }
    }

    public var checks: [Check]
    /// Worth a look, but not a reason to be unready (a profile that hears nothing, for one).
    public var warnings: [String]

    public init(checks: [Check], warnings: [String] = []) {
        self.checks = checks
        self.warnings = warnings
    }

    public var isReady: Bool { checks.allSatisfy(\.ok) }

    /// `name: detail` of every failing check.
    public var reasons: [String] {
        checks.filter { !$0.ok }.map { "\($0.name): \($0.detail ?? "not ok")" }
    }

    var json: JSONValue {
        .object([
            "status": .string(isReady ? "ready" : "not ready"),
            "reasons": isReady ? nil : .array(reasons.map(JSONValue.string)),
            "warnings": .array(warnings.map(JSONValue.string)),
            "checks": .array(checks.map { check in
                .object(["name": .string(check.name), "ok": .bool(check.ok), "detail": check.detail.map(JSONValue.string)])
            }),
        ])
    }
}
