public import Hummingbird
import Logging
import WherryController

/// Turns every error a route throws into the API's error answer, `{"error": {"message": "..."}}` with the fitting
/// status: Hummingbird's own errors keep their status and headers (an unknown route 404, a body over the limit 413,
/// a bad request 400), a state database that cannot be used is 500 with what to do, anything else 500. Without it
/// Hummingbird answers a thrown error with an empty body, or with its status alone.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    /// What `next` answers, or the JSON error answer for what it threw.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, headers, message) = Self.answer(for: error, request: request)
            if status.kind == .serverError {
                context.logger.error(
                    "Request failed", metadata: ["http.route": "\(request.uri.path)", "wherry.error": "\(message)"])
            }
            var response = StatusAPI.error(status, message)
            response.headers.append(contentsOf: headers)
            return response
        }
    }

    /// The status, extra headers and message that answer `error`.
    static func answer(for error: any Error, request: Request) -> (HTTPResponse.Status, HTTPFields, String) {
        switch error {
        case let error as HTTPError:
            return (error.status, error.headers, error.body ?? message(for: error.status, request: request))
        case let error as any HTTPResponseError:
            return (error.status, [:], message(for: error.status, request: request))
        case let error as StatusStoreError:
            return (.internalServerError, [:], error.message)
        default:
            return (.internalServerError, [:], "internal error: \(error)")
        }
    }

    /// A message for an error that carries only a status.
    private static func message(for status: HTTPResponse.Status, request: Request) -> String {
        switch status {
        case .notFound: "no route \(request.method) \(request.uri.path)"
        case .contentTooLarge: "the request body is larger than \(request.uri.path) reads"
        case .badRequest: "bad request: \(request.method) \(request.uri.path)"
        default: status.reasonPhrase.isEmpty ? "HTTP \(status.code)" : status.reasonPhrase
        }
    }
}
