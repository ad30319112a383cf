#!/usr/bin/env node
// ceiling.mjs - the test FHIR server's own ceiling for nenfhir's report
// transactions: a plain client POSTs, C at a time, CASES transaction Bundles
// exactly as nenfhir writes them for the same cases, and prints
// {"cases":N,"seconds":S,"perSecond":R,"p50Ms":..,"p99Ms":..} on stdout.
//
//   node bench/ceiling.mjs --base URL --ca FILE --cases N --concurrency C \
//        [--inputs] INPUT.json:TRANSACTION.json...
//
// Each TRANSACTION.json is `nenfhir classify INPUT.json` (the transaction Bundle
// nenfhir would write for that example case). Copy k of a case gets its own ids:
// every entry id (UUID or not) derived from (id, k), except ids that several
// cases' transactions share (the Device that is nenfhir itself); the accession in
// identifiers and text suffixed "-000k" as lis.mjs does; and references to the
// case's inputs (urn:uuid:... of INPUT.json) made Type/id references to ids of
// that copy, as nenfhir refers to the server's ids. Cases are taken round robin
// over the examples, as `lis.mjs post --repeat` does.
// Requests carry `X-Test-Client: bench-ceiling` (server.mjs counts them apart).
// --inputs (for a server that keeps referential integrity, such as HAPI FHIR):
// before the clock starts, each copy's inputs are stored with the ids its
// transaction refers to (one transaction of `PUT Type/<id>` per copy, the
// references between inputs rewritten the same way, patient identifier and
// accession suffixed as lis.mjs does), C at a time, and the entries the cases
// share (nenfhir's Device) are written once, as they exist after nenfhir's
// first report; only the report transactions are timed.
// Node 20, built-in modules only. Exit 0, or 1 when a transaction fails.

import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';

const { values: o, positionals } = parseArgs({
  options: {
    base: { type: 'string' },
    ca: { type: 'string' },
    cases: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    inputs: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
if (!o.base || !positionals.length) {
  console.error('usage: node ceiling.mjs --base URL [--ca FILE] [--cases N] [--concurrency C] INPUT.json:TRANSACTION.json...');
  process.exit(2);
}
const cases = Number(o.cases);
const concurrency = Number(o.concurrency);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

const derivedUuid = (id, k) => {
  const h = crypto.createHash('sha1').update(`${id}/${k}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const derivedId = (id, k) => (/^[0-9a-f-]{36}$/.test(id) ? derivedUuid(id, k) : `${id.slice(0, 50)}-${k}`);

// One template per example: the transaction's text and what to rewrite in it.
const templates = positionals.map((pair) => {
  const [input, tx] = pair.split(':');
  const inBundle = JSON.parse(fs.readFileSync(input, 'utf8'));
  const text = fs.readFileSync(tx, 'utf8');
  const bundle = JSON.parse(text);
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction') throw new Error(`${tx}: not a transaction Bundle`);
  const inputs = new Map(); // uuid of an input fullUrl -> its resource type
  for (const e of inBundle.entry ?? []) {
    const m = /^urn:uuid:(.*)$/.exec(e.fullUrl ?? '');
    if (m && e.resource?.resourceType) inputs.set(m[1], e.resource.resourceType);
  }
  const outIds = bundle.entry.map((e) => e.request.url.split('/')[1]);
  const specimen = (inBundle.entry ?? []).find((e) => e.resource?.resourceType === 'Specimen')?.resource;
  return { tx, text, inputs, inText: fs.readFileSync(input, 'utf8'), outIds, accession: specimen?.accessionIdentifier?.value };
});
const counts = new Map();
for (const t of templates) for (const id of t.outIds) counts.set(id, (counts.get(id) ?? 0) + 1);

function copy(t, k) {
  const suffix = `-${String(k).padStart(4, '0')}`;
  const ids = new Map(t.outIds.filter((id) => counts.get(id) === 1).map((id) => [id, derivedId(id, k)]));
  let s = t.text.replace(/urn:uuid:([0-9a-f-]{36})/g, (all, u) =>
    t.inputs.has(u) ? `${t.inputs.get(u)}/${derivedUuid(u, k)}` : all);
  s = s.replace(/[A-Za-z0-9.-]{36,64}/g, (w) => ids.get(w) ?? w.replace(UUID, (u) => ids.get(u) ?? u));
  if (t.accession) s = s.split(t.accession).join(t.accession + suffix);
  return Buffer.from(s, 'utf8');
}

// The inputs of copy k of a case as one transaction of PUT Type/<id> with the
// ids copy(t, k) refers to (for --inputs).
function inputsCopy(t, k) {
  const suffix = `-${String(k).padStart(4, '0')}`;
  let s = t.inText.replace(/urn:uuid:([0-9a-f-]{36})/g, (all, u) =>
    t.inputs.has(u) ? `${t.inputs.get(u)}/${derivedUuid(u, k)}` : all);
  if (t.accession) s = s.split(t.accession).join(t.accession + suffix);
  const b = JSON.parse(s);
  const entry = [];
  for (const e of b.entry ?? []) {
    const r = e.resource;
    const m = /^([A-Za-z]+)\/([0-9a-f-]{36})$/.exec(e.fullUrl ?? '');
    if (!r || !m) continue;
    r.id = m[2];
    if (r.meta) {
      delete r.meta.versionId;
      delete r.meta.lastUpdated;
    }
    if (r.resourceType === 'Patient') {
      for (const id of r.identifier ?? []) if (id.value && !id.value.endsWith(suffix)) id.value += suffix;
    }
    entry.push({ fullUrl: `urn:uuid:${m[2]}`, resource: r, request: { method: 'PUT', url: `${m[1]}/${m[2]}` } });
  }
  return Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }), 'utf8');
}

// The entries several cases' transactions share (nenfhir's Device), once.
function sharedEntries() {
  const entry = [];
  const seen = new Set();
  for (const t of templates) {
    for (const e of JSON.parse(t.text).entry) {
      const id = e.request.url.split('/')[1];
      if (counts.get(id) > 1 && !seen.has(id)) {
        seen.add(id);
        entry.push(e);
      }
    }
  }
  return Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }), 'utf8');
}

// Bodies are made before the clock starts.
const bodies = [];
for (let i = 0; i < cases; i++) {
  bodies.push(copy(templates[i % templates.length], Math.floor(i / templates.length) + 1));
}

const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: o.ca ? fs.readFileSync(o.ca) : undefined });
const url = new URL(o.base.replace(/\/+$/, ''));

function post(body) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: 'POST',
      agent,
      headers: {
        'Content-Type': 'application/fhir+json',
        Accept: 'application/fhir+json',
        'Content-Length': body.length,
        'X-Test-Client': 'bench-ceiling',
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200
        ? resolve()
        : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 400)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// runAll(bodies, onTime): posts the bodies, `concurrency` at a time.
async function runAll(list, onTime) {
  let i = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (i < list.length) {
      const body = list[i++];
      const t0 = Date.now();
      await post(body);
      onTime?.(Date.now() - t0);
    }
  }));
}

if (o.inputs) {
  const setup = [];
  for (let i = 0; i < cases; i++) setup.push(inputsCopy(templates[i % templates.length], Math.floor(i / templates.length) + 1));
  const t0 = Date.now();
  try {
    await runAll(setup);
    await runAll([sharedEntries()]);
  } catch (err) {
    console.error(`ceiling: storing the inputs: ${err.message}`);
    process.exit(1);
  }
  console.error(`ceiling: the inputs of ${cases} cases stored in ${((Date.now() - t0) / 1000).toFixed(1)} s (not timed)`);
}

const times = [];
let next = 0;
const start = Date.now();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < bodies.length) {
    const body = bodies[next++];
    const t0 = Date.now();
    await post(body);
    times.push(Date.now() - t0);
  }
})).catch((err) => {
  console.error(`ceiling: ${err.message}`);
  process.exit(1);
});
const seconds = (Date.now() - start) / 1000;
agent.destroy();
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))];
console.log(JSON.stringify({ cases, concurrency, seconds, perSecond: cases / seconds, p50Ms: pct(50), p99Ms: pct(99) }));
