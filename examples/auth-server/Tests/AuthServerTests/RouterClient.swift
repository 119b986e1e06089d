import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded

/// Requests straight into a router's responder, without a socket, as HummingbirdTesting's `.router` mode does.
/// HummingbirdTesting itself is not used: for its live modes it links AsyncHTTPClient and SwiftNIO SSL (another
/// BoringSSL), which these tests never need and which cost some 450 CPU seconds of build. The HTTP path over a
/// real socket is covered end to end by nginx-module/t/auth_server.t.
struct RouterClient: Sendable {
    let responder: RouterResponder<BasicRequestContext>
    let logger = Logger(label: "auth-server-tests")

    init(router: Router<BasicRequestContext>) {
        self.responder = router.buildResponder()
    }

    /// What the server answered.
    struct Response {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
    }

    func execute(
        uri: String,
        method: HTTPRequest.Method,
        headers: HTTPFields = [:],
        body: ByteBuffer? = nil
    ) async throws -> Response {
        var headers = headers
        if let body {
            headers[.contentLength] = String(body.readableBytes)
        }
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: uri, headerFields: headers),
            body: RequestBody(buffer: body ?? ByteBuffer())
        )
        let context = BasicRequestContext(
            source: ApplicationRequestContextSource(channel: EmbeddedChannel(), logger: self.logger)
        )
        // As Hummingbird's server does with an error no middleware turned into a response.
        let response =
            (try? await self.responder.respond(to: request, context: context))
            ?? Hummingbird.Response(status: .internalServerError)
        let collected = CollectedBody()
        try await response.body.write(BodyWriter(collected: collected))
        return Response(status: response.status, headers: response.headers, body: collected.buffer)
    }

    private final class CollectedBody {
        var buffer = ByteBuffer()
    }

    private struct BodyWriter: ResponseBodyWriter {
        let collected: CollectedBody

        func write(_ buffer: ByteBuffer) async throws {
            var buffer = buffer
            self.collected.buffer.writeBuffer(&buffer)
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
