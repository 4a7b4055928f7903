"""DEMO AND TESTS ONLY: local stand-ins for FranceConnect and API Particulier.

`provider.IdentitySim` is a plain WSGI application (no Django) that speaks:
- FranceConnect v2's OpenID Connect protocol: discovery, JWKS, authorization
  (a page where the person picks a demo identity), token (client_secret_post
  or basic, codes used once), userinfo (a signed JWT, as FranceConnect v2
  answers), end-session (id_token_hint checked). ID tokens are RS256 JWTs
  signed with joserfc, with `acr` (eIDAS level), `nonce`, `aud`, `iss`, `exp`.
- API Particulier v3's quotient familial endpoint
  (`GET /v3/dss/quotient_familial/identite`, `Authorization: Bearer <jeton>`,
  `recipient` = SIRET), answering its documented JSON and error documents
  (404 code 37003 « Dossier allocataire absent », 401, 429, 503).

Tests serve it on a local port (`serve_in_thread`); `make run` mounts it in the
public URLconf while `IDENTITY_SIMULATOR` is on (prod.py refuses it). Our
production client code talks to it over HTTP exactly as to the real services.
"""
