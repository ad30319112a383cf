// selftest-smart.mjs - selftest of the test server's SMART token endpoint
// (server-smart.mjs, issue 12 item 8, interop.md I16), without HTTP: the
// Smart class is given client_credentials forms whose assertions are signed
// here with `jose` (keys made by node:crypto). A good RS384 and a good ES384
// assertion get a token; the same assertion again (replayed jti), an expired
// one, one signed by another key, one with the wrong aud, one whose exp is
// more than 5 minutes ahead, one with alg HS256 and one without jti are
// refused with 401 invalid_client; while /_test/smart-down holds, 503.
// Prints "smart selftest: N passed, M failed"; exits 1 on any failure.
// Usage: node selftest-smart.mjs
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { Smart } from './server-smart.mjs';

const base = 'https://127.0.0.1:8443/fhir';
const aud = 'https://127.0.0.1:8443/auth/token';
let pass = 0;
let fail = 0;

function keys(type) {
  const opts = type === 'rsa' ? { modulusLength: 2048 } : { namedCurve: 'P-384' };
  const { publicKey, privateKey } = crypto.generateKeyPairSync(type === 'rsa' ? 'rsa' : 'ec', opts);
  return { pub: publicKey.export({ type: 'spki', format: 'pem' }), priv: privateKey };
}

async function assertion(priv, alg, claims = {}, header = {}) {
  const now = Math.floor(Date.now() / 1000);
  const c = { iss: 'c1', sub: 'c1', aud, iat: now, exp: now + 300, jti: crypto.randomBytes(16).toString('hex'), ...claims };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return new SignJWT(c).setProtectedHeader({ alg, typ: 'JWT', kid: 'k1', ...header }).sign(priv);
}

function form(jwt) {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'system/Observation.read',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: jwt,
  });
}

async function check(name, smart, jwt, status, errorRe) {
  const a = await smart.token(form(jwt), base);
  const ok = a.status === status && (!errorRe || errorRe.test(`${a.body.error}: ${a.body.error_description}`)) &&
    (status !== 200 || (typeof a.body.access_token === 'string' && a.body.token_type === 'bearer' && smart.authorized(`Bearer ${a.body.access_token}`)));
  if (ok) {
    pass++;
    console.log(`PASS: ${name} (${a.status})`);
  } else {
    fail++;
    console.log(`FAIL: ${name}: expected ${status} ${errorRe ?? ''}, got ${a.status} ${JSON.stringify(a.body)}`);
  }
}

const rsa = keys('rsa');
const ec = keys('ec');
const other = keys('ec');
const quiet = () => {};
const sRsa = new Smart({ publicKeyPem: rsa.pub, tokenSeconds: 60, log: quiet });
const sEc = new Smart({ publicKeyPem: ec.pub, tokenSeconds: 60, log: quiet });

const good = await assertion(rsa.priv, 'RS384');
await check('RS384 assertion', sRsa, good, 200);
await check('the same RS384 assertion again (replayed jti)', sRsa, good, 401, /invalid_client: jti .* replayed/);
const goodEc = await assertion(ec.priv, 'ES384');
await check('ES384 assertion', sEc, goodEc, 200);
await check('the same ES384 assertion again (replayed jti)', sEc, goodEc, 401, /replayed/);
const past = Math.floor(Date.now() / 1000) - 400;
await check('expired assertion', sEc, await assertion(ec.priv, 'ES384', { iat: past, exp: past + 300 }), 401, /invalid_client: .*ERR_JWT_EXPIRED/);
await check('signed by a key the server does not know', sEc, await assertion(other.priv, 'ES384'), 401, /invalid_client: .*signature verification failed/);
await check('RS384 assertion for an EC public key', sEc, await assertion(rsa.priv, 'RS384'), 401, /invalid_client/);
await check('wrong aud', sEc, await assertion(ec.priv, 'ES384', { aud: 'https://other.example/token' }), 401, /invalid_client: .*aud/);
await check('exp more than 5 minutes ahead', sEc, await assertion(ec.priv, 'ES384', { exp: Math.floor(Date.now() / 1000) + 3600 }), 401, /more than 5 minutes/);
await check('no jti', sEc, await assertion(ec.priv, 'ES384', { jti: undefined }), 401, /invalid_client: .*jti/);
await check('iss differs from sub', sEc, await assertion(ec.priv, 'ES384', { sub: 'c2' }), 401, /iss and sub differ/);
await check('alg HS256', sEc, await new SignJWT({ iss: 'c1', sub: 'c1', aud, exp: Math.floor(Date.now() / 1000) + 60, jti: 'x' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(crypto.randomBytes(32)), 401, /alg HS256 not accepted/);
sEc.downUntil = Date.now() + 60000;
await check('endpoint down (503)', sEc, await assertion(ec.priv, 'ES384'), 503, /temporarily_unavailable/);
const st = sEc.stats();
if (st.unavailable === 1 && st.issued === 1 && st.requests === 11) {
  pass++;
  console.log(`PASS: stats ${JSON.stringify(st)}`);
} else {
  fail++;
  console.log(`FAIL: stats ${JSON.stringify(st)} (expected issued 1, unavailable 1, requests 11)`);
}
console.log(`smart selftest: ${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
