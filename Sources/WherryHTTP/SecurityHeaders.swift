import HTTPTypes
public import Hummingbird

/// Security headers on every answer: a strict Content-Security-Policy (scripts, styles and connections from this
/// server only, no inline script or style, no framing), `X-Content-Type-Options: nosniff` and
/// `Referrer-Policy: no-referrer`.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    /// The policy: nothing but this origin's script, style and fetches; no inline code anywhere.
    public static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    /// `next`'s answer with the headers set.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
