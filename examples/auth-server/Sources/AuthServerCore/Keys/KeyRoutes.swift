import HTTPTypes
import Hummingbird
import NIOCore

/// The routes that publish the verification keys:
///
/// - `GET /.well-known/jwks.json`: the JWKS (RFC 7517 §5), public members only, with
///   `Cache-Control: max-age=<jwksMaxAge>`; 404 when the signing key is a secret;
/// - `GET /.well-known/openid-configuration`: `issuer` and `jwks_uri` (OpenID Connect Discovery 1.0 §3, the
///   members a JWKS consumer reads), when the server has an issuer; 404 otherwise.
func addKeyRoutes(to router: Router<BasicRequestContext>, service: AuthService) {
    let maxAge = "max-age=\(service.configuration.jwksMaxAge)"

    router.get(".well-known/jwks.json") { _, _ in
        guard let jwks = service.publicJWKS() else {
            throw AuthError.notFound
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .cacheControl: maxAge],
            body: .init(byteBuffer: ByteBuffer(bytes: jwks))
        )
    }

    router.get(".well-known/openid-configuration") { _, _ in
        guard let issuer = service.configuration.issuer else {
            throw AuthError.notFound
        }
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        return jsonResponse(
            DiscoveryDocument(issuer: issuer, jwksURI: base + "/.well-known/jwks.json"),
            headers: [.cacheControl: maxAge]
        )
    }
}

struct DiscoveryDocument: Encodable {
    var issuer: String
    var jwksURI: String

    enum CodingKeys: String, CodingKey {
        case issuer
        case jwksURI = "jwks_uri"
    }
}
