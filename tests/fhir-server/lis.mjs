#!/usr/bin/env node
// lis.mjs -- "the LIS": a test tool that plays the pathology laboratory information system.
//
// It writes cases to a FHIR R4 server the way a LIS would (one resource at a time, the
// Patient and Specimen by conditional create, then the results), changes results afterwards
// (amend / retract), and reads back what nenfhir wrote (its tagged DiagnosticReports).
// The end-to-end tests drive nenfhir with it against tests/fhir-server/server.mjs.
//
//   node lis.mjs post    --base URL [--ca FILE] [--repeat N] [--concurrency C] [--xml]
//                        [--delay-ms D] [--json] CASE.json...
//   node lis.mjs amend   --base URL [--ca FILE] --accession VALUE --code CODE --value NUMBER
//   node lis.mjs retract --base URL [--ca FILE] --accession VALUE --code CODE
//   node lis.mjs reports --base URL [--ca FILE] [--wait N] [--status S[,S2]] [--timeout SEC] [--json]
//   node lis.mjs count   --base URL [--ca FILE] --type T [--tag]
// Common options: --cert FILE --key FILE (client certificate), --token-file FILE (bearer token).
//
// Node 20, built-in modules only; --xml needs the `fhir` package from tests/fhir-server/node_modules.
// Exit codes: 0 ok, 1 failure, 2 usage error.

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

const TAG_SYSTEM = 'https://nenfhir.org/fhir/CodeSystem/meta-tag';
const TAG_CODE = 'nenfhir-generated';
const TAG = `${TAG_SYSTEM}|${TAG_CODE}`;
const RETRY_BUDGET_MS = 60_000;      // total time a request may spend retrying
const REQUEST_TIMEOUT_MS = 30_000;   // one attempt
const PAGE = 200;

const USAGE = `usage:
  node lis.mjs post    --base URL [--ca FILE] [--repeat N] [--concurrency C] [--xml]
                       [--delay-ms D] [--json] CASE.json...
  node lis.mjs amend   --base URL [--ca FILE] --accession VALUE --code CODE --value NUMBER
  node lis.mjs retract --base URL [--ca FILE] --accession VALUE --code CODE
  node lis.mjs reports --base URL [--ca FILE] [--wait N] [--status S[,S2]] [--timeout SEC] [--json]
  node lis.mjs count   --base URL [--ca FILE] --type T [--tag]
common options:
  --base URL         FHIR base, e.g. https://127.0.0.1:8443/fhir
  --ca FILE          CA certificate(s) to trust (PEM); default: the system trust store
  --cert FILE --key FILE   client certificate for mutual TLS (PEM)
  --token-file FILE  send "Authorization: Bearer <contents>"
post:    each CASE.json is a FHIR collection Bundle; its resources are POSTed one by one
         (Patient and Specimen as conditional creates), urn:uuid references rewritten.
         --json: one line per case {file, accession, patient, resources, firstMs, lastMs}
         (epoch ms of the first POST and of the last answer), then a total line.
         --repeat N posts N copies of each case, copy k with patient identifier and
         accession suffixed -k (4 digits, e.g. -0007). --concurrency C cases at once
         (default 4). --xml posts application/fhir+xml. --delay-ms D between resources.
amend:   sets the value of the case's Observation with code CODE, status amended, PUT.
retract: sets that Observation to entered-in-error, PUT.
reports: lists the DiagnosticReports nenfhir wrote (tag meta-tag|nenfhir-generated);
         --wait N polls until N exist (with a status in --status, if given), failing
         after --timeout SEC (default 120).
count:   number of resources of type T (--tag: only the nenfhir-tagged ones).
exit codes: 0 ok, 1 failure, 2 usage error`;

class UsageError extends Error {}

class HttpError extends Error {
  constructor(method, url, status, diagnostics) {
    super(`${method} ${url} -> HTTP ${status}${diagnostics ? `: ${diagnostics}` : ''}`);
    this.method = method;
    this.url = url;
    this.status = status;
    this.diagnostics = diagnostics;
  }
}

// ---------------------------------------------------------------------------------------
// HTTP

const RETRYABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET', 'LIS_TIMEOUT',
]);

let fhirLib = null;
async function fhirXml() {
  if (!fhirLib) {
    let mod;
    try {
      mod = await import('fhir');
    } catch (e) {
      throw new Error(`--xml needs the 'fhir' npm package (npm install in tests/fhir-server): ${e.message}`);
    }
    const Fhir = mod.Fhir || mod.default?.Fhir;
    fhirLib = new Fhir();
  }
  return fhirLib;
}

function diagnosticsOf(text, contentType) {
  if (!text) return '';
  try {
    let oo;
    if (/xml/.test(contentType || '') || text.trimStart().startsWith('<')) {
      if (!fhirLib) return text.replace(/\s+/g, ' ').trim().slice(0, 500);
      oo = fhirLib.xmlToObj(text);
    } else {
      oo = JSON.parse(text);
    }
    if (oo && oo.resourceType === 'OperationOutcome' && Array.isArray(oo.issue)) {
      return oo.issue
        .map((i) => `${i.severity || '?'} ${i.code || '?'}: ${i.diagnostics || i.details?.text || ''}`
          + (i.expression ? ` [${i.expression.join(', ')}]` : ''))
        .join('; ');
    }
  } catch {
    // not FHIR: fall through
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

class Client {
  constructor(opts) {
    this.base = opts.base.replace(/\/+$/, '');
    this.baseUrl = new URL(this.base + '/');
    const tls = {};
    if (opts.ca) tls.ca = fs.readFileSync(opts.ca);
    if (opts.cert) tls.cert = fs.readFileSync(opts.cert);
    if (opts.key) tls.key = fs.readFileSync(opts.key);
    this.agent = this.baseUrl.protocol === 'https:'
      ? new https.Agent({ ...tls, keepAlive: true, maxSockets: 64, minVersion: 'TLSv1.2' })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    this.token = opts.tokenFile ? fs.readFileSync(opts.tokenFile, 'utf8').trim() : null;
  }

  // URL for a path relative to the base ("Patient?x=y") or an absolute URL from the server.
  // Absolute URLs (next links) keep their path and query but always go to the base's origin:
  // a server may build them from a configured base URL that differs from the one we use.
  url(pathOrUrl) {
    if (/^https?:\/\//i.test(pathOrUrl)) {
      const u = new URL(pathOrUrl);
      if (u.origin !== this.baseUrl.origin) {
        return this.baseUrl.origin + u.pathname + u.search;
      }
      return u.toString();
    }
    return this.base + '/' + pathOrUrl.replace(/^\/+/, '');
  }

  attempt(method, url, headers, body) {
    return new Promise((resolve, reject) => {
      const u = new URL(url);
      const mod = u.protocol === 'https:' ? https : http;
      const req = mod.request(u, { method, headers, agent: this.agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({
          status: res.statusCode,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => {
        const e = new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`);
        e.code = 'LIS_TIMEOUT';
        req.destroy(e);
      });
      req.on('error', reject);
      if (body != null) req.write(body);
      req.end();
    });
  }

  // One FHIR interaction. Retries connection errors, 5xx and 429 with backoff for up to
  // `budgetMs`; any other status not in `ok` throws an HttpError.
  async request(method, pathOrUrl, { body, contentType, headers = {}, ok = [200, 201], budgetMs = RETRY_BUDGET_MS } = {}) {
    const url = this.url(pathOrUrl);
    // X-Test-Client: the test server counts our requests apart from nenfhir's (/_test/stats)
    // Cache-Control: no-cache on GETs: HAPI JPA (and the test server with --paging hapi)
    // answers a search repeated within 60 s from its cache, so `reports --wait` would see
    // an old answer
    const h = { Accept: 'application/fhir+json', 'X-Test-Client': 'lis', ...(method === 'GET' ? { 'Cache-Control': 'no-cache' } : {}), ...headers };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    let payload = null;
    if (body != null) {
      payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
      h['Content-Type'] = contentType || 'application/fhir+json';
      h['Content-Length'] = payload.length;
    }
    const start = Date.now();
    let delay = 250;
    let resets = 0;
    for (let n = 1; ; n++) {
      let res = null;
      let err = null;
      try {
        res = await this.attempt(method, url, h, payload);
        resets = 0;
      } catch (e) {
        if (!RETRYABLE_CODES.has(e.code)) {
          throw new HttpError(method, url, `connection failed (${e.code || 'error'})`, e.message);
        }
        // A server that is going down resets a connection once and then refuses new ones; a
        // server that resets every connection is refusing us (often our client certificate
        // under TLS 1.3, where the refusal comes after the handshake).
        resets = e.code === 'ECONNRESET' ? resets + 1 : 0;
        if (resets >= 5) {
          throw new HttpError(method, url, 'connection failed (ECONNRESET)',
            `${e.message}; reset ${resets} times in a row: is the server refusing our TLS client certificate?`);
        }
        err = e;
      }
      if (res && res.status !== 429 && res.status < 500) {
        if (!ok.includes(res.status)) {
          throw new HttpError(method, url, res.status, diagnosticsOf(res.text, res.headers['content-type']));
        }
        return { status: res.status, headers: res.headers, text: res.text, body: await parseBody(res) };
      }
      let wait = delay + Math.floor(Math.random() * 100);
      if (res && res.headers['retry-after'] && /^\d+$/.test(res.headers['retry-after'])) {
        wait = Math.max(wait, Math.min(10_000, 1000 * Number(res.headers['retry-after'])));
      }
      if (Date.now() - start + wait > budgetMs) {
        if (err) throw new HttpError(method, url, `connection failed (${err.code})`, `${err.message}; gave up after ${n} attempts`);
        throw new HttpError(method, url, res.status,
          `${diagnosticsOf(res.text, res.headers['content-type'])}; gave up after ${n} attempts`);
      }
      await sleep(wait);
      delay = Math.min(delay * 2, 3000);
    }
  }

  // All resources of a search (search.mode "match" entries), following next links. A server
  // that gives no next link although Bundle.total says there is more (Medplum's fhir-router
  // on its own does that) is paged with _offset instead.
  async searchAll(path, opts = {}) {
    const out = [];
    const ids = new Set();
    const seen = new Set();
    let next = path;
    while (next) {
      const url = this.url(next);
      if (seen.has(url)) break;
      seen.add(url);
      const { body } = await this.request('GET', url, opts);
      if (!body || body.resourceType !== 'Bundle') {
        throw new HttpError('GET', url, 'not a Bundle', `got ${body?.resourceType || 'no body'}`);
      }
      let fresh = 0;
      for (const e of body.entry || []) {
        if (!e.resource || (e.search?.mode ?? 'match') !== 'match') continue;
        const key = `${e.resource.resourceType}/${e.resource.id}`;
        if (e.resource.id && ids.has(key)) continue;
        ids.add(key);
        out.push(e.resource);
        fresh++;
      }
      next = (body.link || []).find((l) => l.relation === 'next')?.url || null;
      if (!next && fresh > 0) {
        const u = new URL(this.url(path));
        const asked = Number(u.searchParams.get('_count')) || 0;
        const more = typeof body.total === 'number' ? out.length < body.total : asked > 0 && fresh >= asked;
        if (more) {
          u.searchParams.set('_offset', String(out.length));
          next = u.toString();
        }
      }
    }
    return out;
  }
}

async function parseBody(res) {
  const text = res.text;
  if (!text || !text.trim()) return null;
  const ct = res.headers['content-type'] || '';
  if (/xml/.test(ct) || text.trimStart().startsWith('<')) {
    return (await fhirXml()).xmlToObj(text);
  }
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// "Patient/123" from a body id or a Location header (…/Patient/123/_history/1).
function createdRef(type, res) {
  if (res.body && res.body.resourceType === type && res.body.id) return `${type}/${res.body.id}`;
  const loc = res.headers.location || res.headers['content-location'];
  if (loc) {
    const m = /([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/?#]+)?\/?(?:[?#].*)?$/.exec(loc);
    if (m && m[1] === type) return `${type}/${m[2]}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// post

function loadCase(file) {
  let bundle;
  try {
    bundle = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${e.message}`);
  }
  if (bundle?.resourceType !== 'Bundle' || !Array.isArray(bundle.entry)) {
    throw new Error(`${file}: not a FHIR Bundle with entries`);
  }
  const entries = bundle.entry.filter((e) => e && e.resource && e.resource.resourceType);
  const patients = entries.filter((e) => e.resource.resourceType === 'Patient');
  const specimens = entries.filter((e) => e.resource.resourceType === 'Specimen');
  if (patients.length !== 1) throw new Error(`${file}: expected one Patient, found ${patients.length}`);
  if (specimens.length < 1) throw new Error(`${file}: no Specimen`);
  if (!specimens[0].resource.accessionIdentifier?.value) throw new Error(`${file}: Specimen has no accessionIdentifier`);
  return { file, entries };
}

function walk(node, fn) {
  if (Array.isArray(node)) {
    node.forEach((v) => walk(v, fn));
  } else if (node && typeof node === 'object') {
    fn(node);
    Object.values(node).forEach((v) => walk(v, fn));
  }
}

// A copy of the case; with k, a distinct patient and case (identifier and accession + "-000k").
function copyCase(c, k) {
  const entries = structuredClone(c.entries);
  const specimen = entries.find((e) => e.resource.resourceType === 'Specimen').resource;
  const patient = entries.find((e) => e.resource.resourceType === 'Patient').resource;
  const oldAccession = specimen.accessionIdentifier.value;
  if (k != null) {
    const suffix = '-' + String(k).padStart(4, '0');
    for (const id of patient.identifier || []) if (id.value) id.value += suffix;
    for (const s of entries.filter((e) => e.resource.resourceType === 'Specimen')) {
      if (s.resource.accessionIdentifier?.value) s.resource.accessionIdentifier.value += suffix;
    }
    const newAccession = specimen.accessionIdentifier.value;
    // References to the specimen display its accession number: keep them in step.
    walk(entries.map((e) => e.resource), (o) => {
      if (typeof o.reference === 'string' && o.display === oldAccession) o.display = newAccession;
    });
  }
  return { file: c.file, k, entries, accession: specimen.accessionIdentifier.value };
}

function internalRefs(resource) {
  const refs = new Set();
  walk(resource, (o) => {
    if (typeof o.reference === 'string') refs.add(o.reference);
  });
  return refs;
}

// Keys under which other entries may refer to an entry: its fullUrl, and Type/id if it has an id.
function entryKeys(e) {
  const keys = [];
  if (e.fullUrl) keys.push(e.fullUrl);
  if (e.resource.id) {
    keys.push(`${e.resource.resourceType}/${e.resource.id}`);
    if (e.fullUrl && /^https?:/.test(e.fullUrl)) keys.push(e.fullUrl.replace(/\/_history\/.*$/, ''));
  }
  return keys;
}

// The order a LIS sends a case in: Patient, Specimen, the specimen's results, the other
// Observations (serology, imaging, earlier biopsies), the Conditions, anything else.
// A resource never goes before one it refers to.
function orderEntries(entries) {
  const rank = (r) => {
    switch (r.resourceType) {
      case 'Patient': return 0;
      case 'Specimen': return 1;
      case 'Observation': return r.specimen ? 2 : 3;
      case 'Condition': return 4;
      default: return 5;
    }
  };
  const keyOwner = new Map();
  entries.forEach((e, i) => entryKeys(e).forEach((k) => keyOwner.set(k, i)));
  const deps = entries.map((e, i) => new Set([...internalRefs(e.resource)]
    .map((r) => keyOwner.get(r))
    .filter((j) => j !== undefined && j !== i)));
  const pending = entries.map((e, i) => i).sort((a, b) => rank(entries[a].resource) - rank(entries[b].resource) || a - b);
  const done = new Set();
  const order = [];
  while (pending.length) {
    const at = pending.findIndex((i) => [...deps[i]].every((j) => done.has(j)));
    if (at < 0) throw new Error('circular references between the resources of the case');
    const [i] = pending.splice(at, 1);
    done.add(i);
    order.push(entries[i]);
  }
  return order;
}

function conditionalQuery(r) {
  const enc = encodeURIComponent;
  const token = (system, value) => (system ? `${enc(system)}|${enc(value)}` : enc(value));
  if (r.resourceType === 'Patient') {
    const id = (r.identifier || []).find((i) => i.value);
    return id ? `identifier=${token(id.system, id.value)}` : null;
  }
  if (r.resourceType === 'Specimen') {
    const a = r.accessionIdentifier;
    return a?.value ? `accession=${token(a.system, a.value)}` : null;
  }
  return null;
}

async function postCase(client, c, opts) {
  const map = new Map();   // urn:uuid:… (or old Type/id) -> Type/id on the server
  const refs = [];
  let patientRef = null;
  const ordered = orderEntries(c.entries);
  const firstMs = Date.now();
  for (let n = 0; n < ordered.length; n++) {
    const e = ordered[n];
    if (n > 0 && opts.delayMs > 0) await sleep(opts.delayMs);
    const r = structuredClone(e.resource);
    const type = r.resourceType;
    delete r.id;
    if (r.meta) {
      delete r.meta.versionId;
      delete r.meta.lastUpdated;
      if (!Object.keys(r.meta).length) delete r.meta;
    }
    walk(r, (o) => {
      if (typeof o.reference !== 'string') return;
      if (map.has(o.reference)) {
        o.reference = map.get(o.reference);
      } else if (o.reference.startsWith('urn:')) {
        throw new Error(`${c.file}: ${type} refers to ${o.reference}, which is not in the Bundle`);
      }
    });
    const headers = { Prefer: 'return=representation' };
    const cond = conditionalQuery(r);
    if (cond) headers['If-None-Exist'] = cond;
    const body = opts.xml ? (await fhirXml()).objToXml(r) : JSON.stringify(r);
    const res = await client.request('POST', type, {
      body,
      contentType: opts.xml ? 'application/fhir+xml' : 'application/fhir+json',
      headers,
      ok: [200, 201],
    });
    const ref = createdRef(type, res);
    if (!ref) {
      throw new HttpError('POST', client.url(type), res.status, `no ${type} id in the response body or Location header`);
    }
    for (const k of entryKeys(e)) map.set(k, ref);
    refs.push(ref);
    if (type === 'Patient') patientRef = ref;
  }
  // firstMs / lastMs: when the first resource's POST left, when the last one's answer came
  return { file: c.file, accession: c.accession, patient: patientRef, resources: refs, firstMs, lastMs: Date.now() };
}

async function cmdPost(client, o, files) {
  if (!files.length) throw new UsageError('post: no case files given');
  for (const f of files) if (!fs.existsSync(f)) throw new UsageError(`post: ${f}: no such file`);
  const repeat = o.repeat === undefined ? null : posInt(o.repeat, '--repeat');
  const concurrency = o.concurrency === undefined ? 4 : posInt(o.concurrency, '--concurrency');
  const delayMs = o['delay-ms'] === undefined ? 0 : nonNegInt(o['delay-ms'], '--delay-ms');
  const cases = files.map(loadCase);
  if (o.xml) await fhirXml();
  const jobs = [];
  if (repeat === null) {
    for (const c of cases) jobs.push(() => copyCase(c, null));
  } else {
    for (let k = 1; k <= repeat; k++) for (const c of cases) jobs.push(() => copyCase(c, k));
  }
  const start = Date.now();
  let next = 0;
  let nCases = 0;
  let nResources = 0;
  let failure = null;
  const worker = async () => {
    while (!failure && next < jobs.length) {
      const c = jobs[next++]();
      try {
        const r = await postCase(client, c, { xml: !!o.xml, delayMs });
        nCases++;
        nResources += r.resources.length;
        if (o.json) console.log(JSON.stringify(r));
        else console.log(`posted ${r.file} accession=${r.accession} patient=${r.patient} resources=${r.resources.length}`);
      } catch (e) {
        failure ||= e;
        if (!(e instanceof HttpError)) e.message = `${c.file} (accession ${c.accession}): ${e.message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  const secs = ((Date.now() - start) / 1000).toFixed(1);
  if (failure) {
    console.error(`lis: stopped after ${nCases} cases, ${nResources} resources`);
    throw failure;
  }
  if (o.json) console.log(JSON.stringify({ cases: nCases, resources: nResources, seconds: Number(secs) }));
  else console.log(`posted ${nCases} cases, ${nResources} resources in ${secs} s`);
}

// ---------------------------------------------------------------------------------------
// amend / retract

function codeMatches(cc, code) {
  return (cc?.coding || []).some((c) => c.code === code || `${c.system}|${c.code}` === code);
}

async function findObservation(client, accession, code, allowComponent) {
  const enc = encodeURIComponent;
  const specimens = await client.searchAll(`Specimen?accession=${enc(accession)}&_count=${PAGE}`);
  if (!specimens.length) throw new Error(`no Specimen with accession ${accession}`);
  const match = (obs) => obs.filter((ob) => codeMatches(ob.code, code)
    || (allowComponent && (ob.component || []).some((cp) => codeMatches(cp.code, code))));
  let found = [];
  for (const s of specimens) {
    found.push(...match(await client.searchAll(`Observation?specimen=${enc(`Specimen/${s.id}`)}&_count=${PAGE}`)));
  }
  if (!found.length) {
    const patients = [...new Set(specimens.map((s) => s.subject?.reference).filter(Boolean))];
    for (const p of patients) {
      found.push(...match(await client.searchAll(`Observation?subject=${enc(p)}&_count=${PAGE}`)));
    }
  }
  const seen = new Set();
  found = found.filter((ob) => !seen.has(ob.id) && seen.add(ob.id));
  const live = found.filter((ob) => ob.status !== 'entered-in-error');
  if (!live.length) {
    throw new Error(found.length
      ? `the Observation with code ${code} of accession ${accession} is entered-in-error (Observation/${found[0].id})`
      : `no Observation with code ${code} for accession ${accession}`);
  }
  live.sort((a, b) => String(b.meta?.lastUpdated || '').localeCompare(String(a.meta?.lastUpdated || '')));
  if (live.length > 1) {
    console.error(`lis: ${live.length} Observations with code ${code} for accession ${accession}; using the latest, Observation/${live[0].id}`);
  }
  return live[0];
}

function setValue(target, code, raw, num) {
  if ('valueInteger' in target) {
    if (!Number.isInteger(num)) throw new Error(`${code} holds an integer; ${raw} is not one`);
    target.valueInteger = num;
  } else if (target.valueQuantity) {
    target.valueQuantity.value = num;
  } else if (typeof target.valueString === 'string') {
    // e.g. Ki-67 "8%": replace the number, keep the rest
    target.valueString = /[-+]?\d+(?:[.,]\d+)?/.test(target.valueString)
      ? target.valueString.replace(/[-+]?\d+(?:[.,]\d+)?/, raw)
      : raw;
  } else {
    const kind = Object.keys(target).find((k) => k.startsWith('value')) || 'no value';
    throw new Error(`${code} has ${kind}, not a number to change`);
  }
}

async function cmdChange(client, o, retract) {
  const cmd = retract ? 'retract' : 'amend';
  if (!o.accession) throw new UsageError(`${cmd}: --accession is required`);
  if (!o.code) throw new UsageError(`${cmd}: --code is required`);
  let num = null;
  if (!retract) {
    if (o.value === undefined) throw new UsageError('amend: --value is required');
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(o.value)) throw new UsageError(`amend: --value ${o.value} is not a number`);
    num = Number(o.value);
  } else if (o.value !== undefined) {
    throw new UsageError('retract takes no --value');
  }
  for (let tries = 1; ; tries++) {
    const ob = await findObservation(client, o.accession, o.code, !retract);
    if (retract) {
      ob.status = 'entered-in-error';
    } else {
      const target = codeMatches(ob.code, o.code) ? ob : ob.component.find((cp) => codeMatches(cp.code, o.code));
      setValue(target, o.code, o.value, num);
      ob.status = 'amended';
    }
    const headers = {};
    if (ob.meta?.versionId) headers['If-Match'] = `W/"${ob.meta.versionId}"`;
    try {
      await client.request('PUT', `Observation/${ob.id}`, { body: ob, headers, ok: [200, 201] });
    } catch (e) {
      // Someone else changed it in between: read it again and redo the change.
      if (e instanceof HttpError && (e.status === 409 || e.status === 412) && tries < 3) continue;
      throw e;
    }
    console.log(retract ? `retracted Observation/${ob.id}` : `amended Observation/${ob.id} ${o.code}=${o.value}`);
    return;
  }
}

// ---------------------------------------------------------------------------------------
// reports

function primaryIdentifier(r) {
  const ids = (r.identifier || []).filter((i) => i.value);
  return ids.find((i) => /nenfhir/i.test(i.system || '')) || ids[0] || null;
}

async function cmdReports(client, o) {
  const wait = o.wait === undefined ? null : nonNegInt(o.wait, '--wait');
  const timeout = o.timeout === undefined ? 120 : posNumber(o.timeout, '--timeout');
  const statuses = o.status ? o.status.split(',').map((s) => s.trim()).filter(Boolean) : null;
  const query = `DiagnosticReport?_tag=${encodeURIComponent(TAG)}&_count=${PAGE}`;
  const counted = (list) => (statuses ? list.filter((r) => statuses.includes(r.status)) : list);

  let reports = [];
  let timedOut = false;
  if (wait === null) {
    reports = await client.searchAll(query);
  } else {
    const deadline = Date.now() + timeout * 1000;
    let lastError = null;
    for (;;) {
      try {
        reports = await client.searchAll(query, { budgetMs: Math.max(1000, Math.min(RETRY_BUDGET_MS, deadline - Date.now())) });
        lastError = null;
      } catch (e) {
        if (e instanceof HttpError && typeof e.status === 'number' && e.status < 500 && e.status !== 429) throw e;
        lastError = e;   // server down for now: keep polling
      }
      if (!lastError && counted(reports).length >= wait) break;
      if (Date.now() >= deadline) {
        timedOut = true;
        if (lastError) console.error(`lis: last poll failed: ${lastError.message}`);
        break;
      }
      await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
    }
  }

  const rows = reports.map((r) => ({
    id: r.id,
    identifier: primaryIdentifier(r)?.value ?? null,
    status: r.status,
    versionId: r.meta?.versionId ?? null,
    conclusion: r.conclusion ?? null,
    narrative: r.text?.div ?? null,
    presentedForm: r.presentedForm ?? null,
  }));
  rows.sort((a, b) => cmp(a.identifier ?? '', b.identifier ?? '') || cmp(a.id ?? '', b.id ?? ''));

  // identifier (system|value) -> the reports carrying it
  const holders = new Map();
  for (const r of reports) {
    for (const i of r.identifier || []) {
      if (!i.value) continue;
      const key = `${i.system ?? ''}|${i.value}`;
      if (!holders.has(key)) holders.set(key, new Set());
      holders.get(key).add(r.id);
    }
  }
  const duplicates = [...holders.values()].filter((s) => s.size > 1).length;

  for (const r of rows) {
    if (o.json) {
      console.log(JSON.stringify(r));
    } else {
      console.log(`REPORT ${r.identifier ?? '-'} ${r.status ?? '-'} ${r.versionId ?? '-'}`);
      if (r.conclusion) for (const line of r.conclusion.split('\n')) console.log(`  ${line}`);
      // the synoptic report a person reads (text/plain presentedForm), summary lines last
      const plain = (r.presentedForm ?? []).find((a) => String(a?.contentType ?? '').startsWith('text/plain'));
      if (plain?.data) for (const line of Buffer.from(plain.data, 'base64').toString('utf8').trimEnd().split('\n')) console.log(`  | ${line}`);
    }
  }
  const nMatching = counted(reports).length;
  if (o.json) {
    const summary = { reports: reports.length, duplicates };
    if (statuses) summary.matching = nMatching;
    console.log(JSON.stringify(summary));
  } else {
    console.log(`reports: ${reports.length}`);
    if (statuses) console.log(`reports with status ${statuses.join(',')}: ${nMatching}`);
    console.log(`duplicates: ${duplicates}`);
  }
  if (timedOut) {
    throw new Error(`timed out after ${timeout} s waiting for ${wait} reports`
      + `${statuses ? ` with status ${statuses.join(',')}` : ''}: there were ${nMatching}`);
  }
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// count

async function cmdCount(client, o) {
  if (!o.type) throw new UsageError('count: --type is required');
  if (!/^[A-Z][A-Za-z]+$/.test(o.type)) throw new UsageError(`count: --type ${o.type} is not a FHIR resource type`);
  const tag = o.tag ? `&_tag=${encodeURIComponent(TAG)}` : '';
  let total = null;
  try {
    const { body } = await client.request('GET', `${o.type}?_summary=count${tag}`);
    if (body?.resourceType === 'Bundle' && typeof body.total === 'number') total = body.total;
  } catch (e) {
    // _summary=count refused: count by paging instead
    if (!(e instanceof HttpError) || typeof e.status !== 'number' || e.status >= 500) throw e;
  }
  if (total === null) {
    const all = await client.searchAll(`${o.type}?_count=${PAGE}${tag}`);
    total = all.filter((r) => r.resourceType === o.type).length;
  }
  console.log(String(total));
}

// ---------------------------------------------------------------------------------------
// command line

function posInt(v, name) {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name} must be a positive integer`);
  return Number(v);
}
function nonNegInt(v, name) {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a non-negative integer`);
  return Number(v);
}
function posNumber(v, name) {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new UsageError(`${name} must be a positive number`);
  return n;
}

const COMMON = {
  base: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'token-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const OPTIONS = {
  post: { repeat: { type: 'string' }, concurrency: { type: 'string' }, xml: { type: 'boolean' }, 'delay-ms': { type: 'string' }, json: { type: 'boolean' } },
  amend: { accession: { type: 'string' }, code: { type: 'string' }, value: { type: 'string' } },
  retract: { accession: { type: 'string' }, code: { type: 'string' } },
  reports: { wait: { type: 'string' }, status: { type: 'string' }, timeout: { type: 'string' }, json: { type: 'boolean' } },
  count: { type: { type: 'string' }, tag: { type: 'boolean' } },
};

async function main(argv) {
  const cmd = argv[0];
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!cmd || !OPTIONS[cmd]) throw new UsageError(cmd ? `unknown command ${cmd}` : 'no command given');
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      options: { ...COMMON, ...OPTIONS[cmd] },
      allowPositionals: cmd === 'post',
      strict: true,
    });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const o = parsed.values;
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  if (!o.base) throw new UsageError('--base is required');
  if (!/^https?:\/\/[^/]/i.test(o.base)) throw new UsageError(`--base ${o.base} is not an http(s) URL`);
  if (!!o.cert !== !!o.key) throw new UsageError('--cert and --key go together');
  for (const f of ['ca', 'cert', 'key', 'token-file']) {
    if (o[f] !== undefined && !fs.existsSync(o[f])) throw new UsageError(`--${f} ${o[f]}: no such file`);
  }
  const client = new Client({ base: o.base, ca: o.ca, cert: o.cert, key: o.key, tokenFile: o['token-file'] });
  try {
    switch (cmd) {
      case 'post': await cmdPost(client, o, parsed.positionals); break;
      case 'amend': await cmdChange(client, o, false); break;
      case 'retract': await cmdChange(client, o, true); break;
      case 'reports': await cmdReports(client, o); break;
      case 'count': await cmdCount(client, o); break;
    }
  } finally {
    client.agent.destroy();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => {
    if (e instanceof UsageError) {
      console.error(`lis: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
    } else if (e instanceof HttpError) {
      console.error(`lis: ${e.method} ${e.url}: ${typeof e.status === 'number' ? `HTTP ${e.status}` : e.status}`);
      if (e.diagnostics) console.error(`lis:   ${e.diagnostics}`);
      process.exitCode = 1;
    } else {
      console.error(`lis: ${e.message}`);
      process.exitCode = 1;
    }
  },
);
