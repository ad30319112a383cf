#!/usr/bin/env node
// The nenfhir test FHIR server: a real FHIR R4 engine (@medplum/fhir-router over
// an in-memory repository) on HTTPS, which sends rest-hook subscription
// notifications the way HAPI, Medplum and the Subscriptions Backport IG do, and
// has fault-injection controls under /_test/ for end-to-end tests.
// See README.md in this folder for the options, controls and styles.
//
// This file: command line, the HTTPS listener, the /fhir request path (bearer
// token, fail/reject controls, body formats, validation, fhir-store), /_test/
// dispatch, going down and coming back, shutdown.

import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { getStatus } from '@medplum/core';
import { FormatError, parseBody, responseFormat, serialize } from './fhir-format.mjs';
import { FhirStore } from './fhir-store.mjs';
import { loadR4Definitions, writeErrors } from './fhir-validation.mjs';
import { Controls, handleTestRequest } from './server-controls.mjs';
import { Deliveries, HAPI_BACKOFF } from './server-delivery.mjs';
import { Notifier } from './server-notify.mjs';
import { Smart } from './server-smart.mjs';
import { Stats, requestKind } from './server-stats.mjs';

const USAGE = `usage: node server.mjs --cert FILE --key FILE [--ca FILE] [--require-client-cert]
       [--host 127.0.0.1] [--port 0] [--port-file FILE] [--style hapi|medplum]
       [--delivery-retries 2] [--delivery-retry-delay-ms 500] [--delivery-retry-policy hapi|fixed]
       [--delivery-retry-window-ms 60000] [--delivery-delay-ms 0] [--delivery-concurrency 1]
       [--delivery-keepalive] [--delete-integrity true|false] [--paging medplum|hapi]
       [--search-expire-ms 3600000] [--search-cache-ms N] [--ids uuid|sequence]
       [--token-file FILE] [--smart-public-key PEM] [--smart-token-seconds 300] [--quiet]`;
const MAX_BODY = 32 * 1024 * 1024;
const WRITE_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

function die(message) {
  process.stderr.write(`server: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        cert: { type: 'string' },
        key: { type: 'string' },
        ca: { type: 'string' },
        'require-client-cert': { type: 'boolean', default: false },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        'port-file': { type: 'string' },
        style: { type: 'string', default: 'hapi' },
        'delivery-retries': { type: 'string' },
        'delivery-retry-delay-ms': { type: 'string' },
        'delivery-retry-policy': { type: 'string' },
        'delivery-retry-window-ms': { type: 'string', default: String(HAPI_BACKOFF.windowMs) },
        'delivery-delay-ms': { type: 'string', default: '0' },
        'delete-integrity': { type: 'string' },
        paging: { type: 'string', default: 'medplum' },
        'search-expire-ms': { type: 'string', default: '3600000' },
        'search-cache-ms': { type: 'string' },
        ids: { type: 'string', default: 'uuid' },
        'delivery-concurrency': { type: 'string', default: '1' },
        'delivery-keepalive': { type: 'boolean', default: false },
        'token-file': { type: 'string' },
        'smart-public-key': { type: 'string' },
        'smart-token-seconds': { type: 'string', default: '300' },
        quiet: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    die(err.message);
  }
  if (!values.cert || !values.key) die('--cert and --key are required');
  if (values['require-client-cert'] && !values.ca) die('--require-client-cert needs --ca');
  if (!['hapi', 'medplum'].includes(values.style)) die('--style must be hapi or medplum');
  // HAPI's retries (1 s back-off x1.1 for 60 s) for hapi-style notifications
  // unless fixed retries are asked for
  const fixedAsked = values['delivery-retries'] !== undefined || values['delivery-retry-delay-ms'] !== undefined;
  values['delivery-retries'] ??= '2';
  values['delivery-retry-delay-ms'] ??= '500';
  values['delivery-retry-policy'] ??= fixedAsked ? 'fixed' : 'hapi';
  if (!['hapi', 'fixed'].includes(values['delivery-retry-policy'])) die('--delivery-retry-policy must be hapi or fixed');
  // HAPI JPA refuses to delete a referenced resource (setEnforceReferentialIntegrityOnDelete, default true)
  values['delete-integrity'] ??= values.style === 'hapi' ? 'true' : 'false';
  if (!['true', 'false'].includes(values['delete-integrity'])) die('--delete-integrity must be true or false');
  if (!['hapi', 'medplum'].includes(values.paging)) die('--paging must be hapi or medplum');
  // HAPI JPA reuses an identical search made within 60 s (setReuseCachedSearchResultsForMillis)
  values['search-cache-ms'] ??= values.paging === 'hapi' ? '60000' : '0';
  if (values.paging !== 'hapi' && values['search-cache-ms'] !== '0') die('--search-cache-ms needs --paging hapi');
  if (!['uuid', 'sequence'].includes(values.ids)) die('--ids must be uuid or sequence');
  const int = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 0) die(`--${name} must be a non-negative integer`);
    return n;
  };
  const read = (name) => {
    try {
      return fs.readFileSync(values[name]);
    } catch (err) {
      return die(`--${name}: ${err.message}`);
    }
  };
  return {
    cert: read('cert'),
    key: read('key'),
    ca: values.ca ? read('ca') : undefined,
    requireClientCert: values['require-client-cert'],
    host: values.host,
    port: int('port'),
    portFile: values['port-file'],
    style: values.style,
    retries: int('delivery-retries'),
    retryDelayMs: int('delivery-retry-delay-ms'),
    retryPolicy: values['delivery-retry-policy'],
    retryWindowMs: int('delivery-retry-window-ms'),
    deliveryDelayMs: int('delivery-delay-ms'),
    deleteIntegrity: values['delete-integrity'] === 'true',
    paging: values.paging,
    searchExpireMs: int('search-expire-ms'),
    searchCacheMs: int('search-cache-ms'),
    ids: values.ids,
    concurrency: int('delivery-concurrency') || die('--delivery-concurrency must be at least 1'),
    keepAlive: values['delivery-keepalive'],
    token: values['token-file'] ? read('token-file').toString('utf8').trim() : undefined,
    smartKey: values['smart-public-key'] ? read('smart-public-key').toString('utf8') : undefined,
    smartSeconds: int('smart-token-seconds'),
    quiet: values.quiet,
  };
}

const opts = parseOptions();
const log = (line) => process.stderr.write(`${line}\n`);
const chatter = opts.quiet ? () => {} : log;

loadR4Definitions({ searchParameters: true });
const stats = new Stats();
const store = new FhirStore({
  deleteIntegrity: opts.deleteIntegrity,
  ids: opts.ids,
  paging: opts.paging === 'hapi' ? { expireMs: opts.searchExpireMs, cacheMs: opts.searchCacheMs } : undefined,
  onCommit: (changes, sent) => {
    stats.committed(changes);
    notifier.commit(changes, sent);
  },
});
const controls = new Controls();
const foreign = []; // /fhir requests whose Host is not the server's own (foreign-next)
const deliveries = new Deliveries({
  ...opts,
  backoff: { ...HAPI_BACKOFF, windowMs: opts.retryWindowMs },
  // HAPI's retry policy is HAPI's: medplum and backport notifications keep the fixed one
  policyOf: (note) => (opts.retryPolicy === 'hapi' && note.style === 'hapi' ? 'hapi' : 'fixed'),
  delayMs: opts.deliveryDelayMs,
  log: chatter,
});
let base; // https://host:port/fhir, known once listening
const smart = opts.smartKey ? new Smart({ publicKeyPem: opts.smartKey, tokenSeconds: opts.smartSeconds, log }) : undefined;
const notifier = new Notifier({ store, deliveries, controls, defaultStyle: opts.style, base: () => base, log });

// ---------------------------------------------------------------------------
// Requests

const outcome = (status, code, diagnostics, expression) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: status >= 500 ? 'fatal' : 'error', code, diagnostics, ...(expression ? { expression: [expression] } : {}) }],
});

// The request body; past MAX_BODY the rest is read and discarded, and the
// promise rejects with a 413 FormatError.
function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_BODY
        ? reject(new FormatError(413, `Request body larger than ${MAX_BODY} bytes`))
        : resolve(Buffer.concat(chunks))
    );
    req.on('error', reject);
  });
}

// The resource types a write touches, for reject-writes: [{ resourceType, expression }].
function typesWritten(path, body) {
  const out = [];
  const fromUrl = (url, expression) => {
    const type = String(url ?? '').split(/[/?]/)[0];
    if (/^[A-Z][A-Za-z]+$/.test(type)) out.push({ resourceType: type, expression });
  };
  fromUrl(path, path.split(/[/?]/)[0]);
  if (body?.resourceType) out.push({ resourceType: body.resourceType, expression: body.resourceType });
  if (body?.resourceType === 'Bundle') {
    (body.entry ?? []).forEach((entry, i) => {
      if (entry?.resource?.resourceType) {
        out.push({ resourceType: entry.resource.resourceType, expression: `Bundle.entry[${i}].resource` });
      }
      fromUrl(entry?.request?.url, `Bundle.entry[${i}].request.url`);
    });
  }
  return out;
}

function resourceHeaders(resource, status) {
  const { resourceType, id, meta } = resource ?? {};
  if (!id || !meta?.versionId || resourceType === 'Bundle' || resourceType === 'OperationOutcome') return {};
  const headers = { ETag: `W/"${meta.versionId}"`, 'Last-Modified': new Date(meta.lastUpdated).toUTCString() };
  if (status === 201) headers.Location = `${base}/${resourceType}/${id}/_history/${meta.versionId}`;
  return headers;
}

async function handleFhir(req, res, url) {
  const format = responseFormat(url.searchParams.get('_format'), req.headers.accept, req.headers['content-type']);
  const send = (status, resource, headers = {}) => {
    const { body, contentType } = serialize(resource, format);
    res.writeHead(status, { ...headers, 'Content-Type': contentType });
    res.end(body);
  };

  const hostname = String(req.headers.host ?? '').replace(/:\d+$/, '');
  if (hostname !== new URL(base).hostname) {
    foreign.push({ method: req.method, url: req.url, host: req.headers.host ?? null, authorization: Boolean(req.headers.authorization) });
  }
  const method = req.method;
  // with SMART on, the static token (--token-file) still lets the test LIS in
  if (smart && !smart.authorized(req.headers.authorization) &&
      !(opts.token !== undefined && req.headers.authorization === `Bearer ${opts.token}`)) {
    return send(401, outcome(401, 'login', 'Missing, unknown or expired SMART access token'), { 'WWW-Authenticate': 'Bearer' });
  }
  if (!smart && opts.token !== undefined && req.headers.authorization !== `Bearer ${opts.token}`) {
    return send(401, outcome(401, 'login', 'Missing or wrong bearer token'), { 'WWW-Authenticate': 'Bearer' });
  }
  const isWrite = WRITE_METHODS.has(method);
  const failWrite = () => {
    const headers = failure.retryAfter === undefined ? {} : { 'Retry-After': String(failure.retryAfter) };
    return send(failure.status, outcome(failure.status, 'transient', 'Writes are failing (test control /_test/fail-writes)'), headers);
  };
  const path = url.pathname.slice('/fhir'.length).replace(/^\/+|\/+$/g, '');
  const client = req.headers['x-test-client'];
  const countRequest = (body) => {
    const query = new URLSearchParams(url.searchParams);
    for (const p of ['_format', '_pretty']) query.delete(p);
    stats.countRequest(client, requestKind(method, path, query, body));
  };
  // without a resourceType, fail-writes answers before the body is read
  let failure = isWrite && !controls.failType && controls.writeFailure();
  if (failure) {
    countRequest(undefined);
    return failWrite();
  }

  let body;
  try {
    body = parseBody(await readBody(req), req.headers['content-type']);
    countRequest(body);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    countRequest(undefined);
    return send(err.status, outcome(err.status, err.status === 413 ? 'too-costly' : 'structure', err.message));
  }
  failure = isWrite && controls.failType && controls.writeFailure(typesWritten(path, body));
  if (failure) return failWrite();
  const readFailure = method === 'GET' && controls.readFailure(path);
  if (readFailure) {
    return send(readFailure, outcome(readFailure, 'not-found', 'Not found (test control /_test/fail-reads)'));
  }
  const query = new URLSearchParams(url.searchParams);
  query.delete('_format');
  query.delete('_pretty');
  if (method === 'GET' && store.paging && path === '' && query.has('_getpages') && controls.takeExpirePage()) {
    const id = query.get('_getpages');
    if (store.paging.forget(id)) log(`test control expire-page: search ${id} expired`);
  }

  if (isWrite) {
    if ((method === 'POST' || method === 'PUT') && typeof body?.resourceType !== 'string') {
      return send(400, outcome(400, 'structure', 'Request body is not a FHIR resource'));
    }
    const rejected = controls.takeReject(typesWritten(path, body));
    if (rejected) {
      const text = `${rejected.resourceType} rejected by the test control /_test/reject-writes`;
      return send(400, outcome(400, 'processing', text, rejected.expression));
    }
    if (method === 'POST' || method === 'PUT') {
      const issues = writeErrors(body);
      if (issues.length) return send(400, { resourceType: 'OperationOutcome', issue: issues });
    }
  }

  const sent = new Promise((resolve) => res.on('close', resolve));
  const [result, resource] = await store.handle({ method, path, query, body, headers: req.headers, base, sent });
  const status = getStatus(result);
  send(status, foreignLinks(resource) ?? result, resourceHeaders(resource, status));
}

// With /_test/foreign-next on, a Bundle's links name that host instead (same port).
function foreignLinks(resource) {
  if (!controls.foreignNextHost || resource?.resourceType !== 'Bundle' || !Array.isArray(resource.link)) return resource;
  const link = resource.link.map((l) => {
    if (typeof l?.url !== 'string' || !l.url.startsWith('https://')) return l;
    const u = new URL(l.url);
    u.hostname = controls.foreignNextHost;
    return { ...l, url: u.toString() };
  });
  return { ...resource, link };
}

async function handleTest(req, res, url) {
  const raw = (await readBody(req)).toString('utf8');
  let body;
  try {
    body = raw.trim() ? JSON.parse(raw) : undefined;
  } catch (err) {
    throw new FormatError(400, `Cannot parse JSON body: ${err.message}`);
  }
  const name = url.pathname.slice('/_test/'.length);
  const answer = await handleTestRequest(
    { method: req.method, name, query: url.searchParams, body },
    { controls, store, deliveries, goDown, foreign, stats }
  );
  if (answer.after) res.on('finish', () => setTimeout(answer.after, 20));
  res.writeHead(answer.status, { 'Content-Type': 'application/json', ...(answer.after ? { Connection: 'close' } : {}) });
  res.end(JSON.stringify(answer.body));
}

async function handle(req, res) {
  const started = Date.now();
  res.on('finish', () => chatter(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - started}ms`));
  const url = new URL(req.url, 'https://server');
  try {
    if (url.pathname === '/_test/smart-down' && smart) {
      smart.downUntil = Date.now() + Number(url.searchParams.get('seconds') ?? '10') * 1000;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ downUntil: smart.downUntil }));
    } else if (url.pathname === '/_test/smart-stats' && smart) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(smart.stats()));
    } else if (url.pathname === '/fhir/.well-known/smart-configuration' && smart) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(smart.configuration(base)));
    } else if (url.pathname === '/auth/token' && smart && req.method === 'POST') {
      const form = new URLSearchParams((await readBody(req)).toString('utf8'));
      const answer = await smart.token(form, base);
      res.writeHead(answer.status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(answer.body));
    } else if (url.pathname.startsWith('/_test/')) await handleTest(req, res, url);
    else if (url.pathname === '/fhir' || url.pathname.startsWith('/fhir/')) await handleFhir(req, res, url);
    else {
      res.writeHead(404, { 'Content-Type': 'application/fhir+json' });
      res.end(JSON.stringify(outcome(404, 'not-found', `No such path: ${url.pathname} (the FHIR base is /fhir)`)));
    }
  } catch (err) {
    const status = err instanceof FormatError ? err.status : 500;
    if (status === 500) log(`${req.method} ${req.url}: ${err.stack}`);
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { 'Content-Type': 'application/fhir+json', Connection: 'close' });
    res.end(JSON.stringify(outcome(status, status === 500 ? 'exception' : 'invalid', err.message)));
  }
}

// ---------------------------------------------------------------------------
// Listening, going down, shutdown

const server = https.createServer({
  cert: opts.cert,
  key: opts.key,
  ca: opts.ca,
  requestCert: opts.requireClientCert,
  rejectUnauthorized: opts.requireClientCert,
});
server.on('request', handle);
const sockets = new Set();
server.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});

let port = opts.port;
let upTimer;

function closeAll() {
  server.close();
  for (const socket of sockets) socket.destroy();
}

// Stop listening and cut every connection; listen again on the same port after `seconds`.
function goDown(seconds) {
  if (!server.listening) return;
  closeAll();
  log(`down for ${seconds}s`);
  upTimer = setTimeout(listenAgain, seconds * 1000);
}

function listenAgain() {
  const onError = (err) => {
    server.off('listening', onListening);
    log(`cannot listen again on port ${port}: ${err.message}; retrying`);
    upTimer = setTimeout(listenAgain, 200);
  };
  const onListening = () => {
    server.off('error', onError);
    log(`listening again on port ${port}`);
  };
  server.once('error', onError);
  server.once('listening', onListening);
  server.listen(port, opts.host);
}

function startupError(err) {
  log(`server: cannot listen on ${opts.host}:${opts.port}: ${err.message}`);
  process.exit(1);
}

server.once('error', startupError);
server.once('listening', () => {
  server.off('error', startupError);
  port = server.address().port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  base = `https://${host}:${port}/fhir`;
  if (opts.portFile) {
    fs.writeFileSync(`${opts.portFile}.tmp`, `${port}\n`);
    fs.renameSync(`${opts.portFile}.tmp`, opts.portFile);
  }
  process.stdout.write(`${JSON.stringify({ base, port })}\n`);
  notifier.startHeartbeats();
});
server.listen(port, opts.host);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    notifier.stopHeartbeats();
    clearTimeout(upTimer);
    closeAll();
    process.exit(0);
  });
}
