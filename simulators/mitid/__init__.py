"""A local mock MitID broker for development and tests (oidc-provider-mock).

Runs the real OpenID Connect code path — authorize, token, userinfo, JWKS,
end-session — on 127.0.0.1 with the demo citizens preconfigured. It is a
development tool: `oidc-provider-mock` is a dev dependency and production
refuses to point at it.
"""
