// server-smart.mjs - SMART Backend Services for the test FHIR server (issue 12
// item 8, interop.md I16): POST /auth/token takes a client_credentials grant
// with a private_key_jwt client assertion (RFC 7523), verified with `jose`
// against the configured public key (--smart-public-key PEM): signature
// (RS384 or ES384), aud = this token URL, exp not passed and at most 5 min
// ahead, a jti never seen before (replays refused). It issues opaque access
// tokens valid --smart-token-seconds; the FHIR API then requires one (401
// otherwise). GET /fhir/.well-known/smart-configuration names the endpoint.
// Test control: POST /_test/smart-down?seconds=N answers 503 for N seconds;
// GET /_test/smart-stats: {issued, refused, unavailable, requests, lastRefusal}
// (requests: every POST to the token endpoint, so a test can bound retries).
// Refused (401 invalid_client, RFC 6749 5.2): a bad signature or a key it
// does not know, alg other than RS384/ES384, typ not JWT, aud not this URL,
// exp passed (jose's jwtVerify, no clock tolerance) or more than 5 min
// ahead, iat in the future, iss != sub, a jti seen before (replay; jtis are
// remembered until their exp). Selftest: selftest-smart.mjs.
import crypto from 'node:crypto';
import { importSPKI, jwtVerify, decodeProtectedHeader } from 'jose';

export class Smart {
  constructor({ publicKeyPem, tokenSeconds, log }) {
    this.pem = publicKeyPem;
    this.tokenSeconds = tokenSeconds;
    this.log = log;
    this.tokens = new Map(); // token -> expiry (ms)
    this.seenJti = new Map(); // jti -> exp (s), pruned once passed
    this.issued = 0;
    this.refused = 0;
    this.unavailable = 0;
    this.requests = 0;
    this.lastRefusal = '';
    this.downUntil = 0;
  }

  configuration(base) {
    const origin = new URL(base).origin;
    return {
      token_endpoint: `${origin}/auth/token`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
      grant_types_supported: ['client_credentials'],
      scopes_supported: ['system/*.read', 'system/*.write'],
      capabilities: ['client-confidential-asymmetric'],
    };
  }

  authorized(header) {
    const m = /^Bearer (\S+)$/.exec(header ?? '');
    const exp = m ? this.tokens.get(m[1]) : undefined;
    return exp !== undefined && exp > Date.now();
  }

  // -> { status, body }
  async token(form, base) {
    const fail = (status, error, description) => {
      this.refused++;
      this.lastRefusal = `${error}: ${description}`;
      this.log(`SMART token refused: ${error}: ${description}`);
      return { status, body: { error, error_description: description } };
    };
    this.requests++;
    if (Date.now() < this.downUntil) {
      this.unavailable++;
      return { status: 503, body: { error: 'temporarily_unavailable', error_description: 'token endpoint down (test control /_test/smart-down)' } };
    }
    if (form.get('grant_type') !== 'client_credentials') return fail(400, 'unsupported_grant_type', `grant_type ${form.get('grant_type')}`);
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') return fail(400, 'invalid_request', 'client_assertion_type must be jwt-bearer');
    const jwt = form.get('client_assertion') ?? '';
    const aud = `${new URL(base).origin}/auth/token`;
    let payload;
    try {
      const { alg } = decodeProtectedHeader(jwt);
      if (alg !== 'RS384' && alg !== 'ES384') return fail(401, 'invalid_client', `alg ${alg} not accepted`);
      const key = await importSPKI(this.pem, alg);
      ({ payload } = await jwtVerify(jwt, key, { algorithms: [alg], audience: aud, typ: 'JWT', requiredClaims: ['iss', 'sub', 'exp', 'jti'] }));
    } catch (err) {
      return fail(401, 'invalid_client', `client assertion refused: ${err.code ?? ''} ${err.message}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (payload.exp > now + 300) return fail(401, 'invalid_client', 'exp more than 5 minutes ahead');
    if (typeof payload.iat === 'number' && payload.iat > now + 60) return fail(401, 'invalid_client', 'iat in the future');
    if (payload.iss !== payload.sub) return fail(401, 'invalid_client', 'iss and sub differ');
    for (const [j, exp] of this.seenJti) if (exp < now) this.seenJti.delete(j);
    if (this.seenJti.has(payload.jti)) return fail(401, 'invalid_client', `jti ${payload.jti} replayed`);
    this.seenJti.set(payload.jti, payload.exp);
    const token = crypto.randomBytes(24).toString('hex');
    this.tokens.set(token, Date.now() + this.tokenSeconds * 1000);
    this.issued++;
    return { status: 200, body: { access_token: token, token_type: 'bearer', expires_in: this.tokenSeconds, scope: form.get('scope') ?? '' } };
  }

  stats() {
    return { issued: this.issued, refused: this.refused, unavailable: this.unavailable, requests: this.requests, lastRefusal: this.lastRefusal };
  }
}
