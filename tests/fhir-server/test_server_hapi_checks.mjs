#!/usr/bin/env node
// The checks of the test server's imitation of HAPI FHIR's JPA server
// (tests/hapi-server/README.md, "HAPI's behaviour versus the Node test
// server's imitation"), run by test_server.sh against two live servers:
//   node test_server_hapi_checks.mjs DIR
// DIR as for test_server_checks.mjs, plus server-hapi.out: the second server,
// started with --paging hapi --search-expire-ms 2000 --search-cache-ms 1500
// --ids sequence --delete-integrity=false --delivery-retry-window-ms 2800
// --delivery-delay-ms 300 (and no --delivery-retries: HAPI's back-off).
// The first server runs with the defaults of style hapi (referential
// integrity on delete). Prints one line per check, then
// "server hapi selftest: N passed, M failed"; exits 1 if any check failed.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const dir = process.argv[2];
const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8');
const tls = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('cert.key') };
const token = read('token').trim();
const baseA = JSON.parse(read('server.out')).base; // style hapi defaults
const baseB = JSON.parse(read('server-hapi.out')).base; // HAPI paging, ids, retries
const hook = `https://127.0.0.1:${JSON.parse(read('receiver.out')).port}`;
const LOINC = 'http://loinc.org';
const SYS = 'urn:selftest-hapi';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

// url: absolute, or relative to `base`. body: an object, sent as FHIR JSON.
function request(base, method, url, { body, headers = {} } = {}) {
  const target = new URL(url.startsWith('https:') ? url : `${base}/${url}`);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const allHeaders = {
    ...(body === undefined ? {} : { 'Content-Type': 'application/fhir+json' }),
    Authorization: `Bearer ${token}`,
    ...headers,
  };
  return new Promise((resolve, reject) => {
    const req = https.request(target, { method, headers: allHeaders, ...tls, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text: raw, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(text);
  });
}
const A = (method, url, opts) => request(baseA, method, url, opts);
const B = (method, url, opts) => request(baseB, method, url, opts);
const controlB = async (name) => (await request(new URL(baseB).origin, 'GET', `${new URL(baseB).origin}/_test/${name}`)).json;

async function create(fhir, resource) {
  const r = await fhir('POST', resource.resourceType, { body: resource });
  assert.equal(r.status, 201, `create ${resource.resourceType}: ${r.text}`);
  return r.json;
}

const received = () =>
  fs.existsSync(path.join(dir, 'received.jsonl'))
    ? read('received.jsonl').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];

async function waitFor(what, fn, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const observation = (extra = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code: '12345-6' }] },
  valueString: 'x',
  ...extra,
});

async function activeSubscription(fhir, endpoint, criteria, channel = {}) {
  const sub = await create(fhir, {
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'server hapi selftest',
    criteria,
    channel: { type: 'rest-hook', endpoint, ...channel },
  });
  await waitFor('Subscription active', async () => (await fhir('GET', `Subscription/${sub.id}`)).json.status === 'active');
  return sub;
}

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL - ${name}: ${err.message}`);
  }
}

// ---------------------------------------------------------------------------

await check('referential integrity on delete (style hapi default): 409 with HAPI\'s OperationOutcome', async () => {
  const input = await create(A, observation());
  const derived = await create(A, observation({ derivedFrom: [{ reference: `Observation/${input.id}` }] }));
  const report = await create(A, {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { text: 'x' },
    result: [{ reference: `Observation/${derived.id}` }],
  });
  const refused = await A('DELETE', `Observation/${input.id}`);
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.json.resourceType, 'OperationOutcome');
  assert.deepEqual(refused.json.issue.map((i) => [i.severity, i.code, i.diagnostics]), [[
    'error', 'processing',
    `Unable to delete Observation/${input.id} because at least one resource has a reference to this resource. ` +
      `First reference found was resource Observation/${derived.id} in path Observation.derivedFrom`,
  ]]);
  const second = await A('DELETE', `Observation/${derived.id}`);
  assert.equal(second.status, 409);
  assert.match(second.json.issue[0].diagnostics, new RegExp(`resource DiagnosticReport/${report.id} in path DiagnosticReport.result$`));
  assert.equal((await A('GET', `Observation/${input.id}`)).status, 200, 'the refused delete deleted');
  // in a transaction the check comes after every entry: the referrer goes with it
  const both = await A('POST', '', {
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { request: { method: 'DELETE', url: `Observation/${derived.id}` } },
        { request: { method: 'DELETE', url: `DiagnosticReport/${report.id}` } },
      ],
    },
  });
  assert.equal(both.status, 200, both.text);
  assert.equal((await A('DELETE', `Observation/${input.id}`)).status, 200);
  // a transaction that would leave a reference fails whole
  const x = await create(A, observation());
  const y = await create(A, observation({ hasMember: [{ reference: `Observation/${x.id}` }] }));
  const partial = await A('POST', '', {
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `Observation/${x.id}` } }] },
  });
  assert.equal(partial.status, 409, partial.text);
  assert.match(partial.json.issue[0].diagnostics, new RegExp(`Observation/${y.id} in path Observation.hasMember`));
  assert.equal((await A('GET', `Observation/${x.id}`)).status, 200);
});

await check('--delete-integrity=false: a referenced resource is deleted', async () => {
  const input = await create(B, observation());
  await create(B, observation({ derivedFrom: [{ reference: `Observation/${input.id}` }] }));
  assert.equal((await B('DELETE', `Observation/${input.id}`)).status, 200);
});

await check('--ids sequence: server ids count up over every type; no purely numeric client id', async () => {
  const p = await create(B, { resourceType: 'Patient' });
  const o = await create(B, observation({ subject: { reference: `Patient/${p.id}` } }));
  assert.match(p.id, /^[0-9]+$/);
  assert.ok(Number(p.id) >= 1000, p.id);
  assert.equal(Number(o.id), Number(p.id) + 1);
  const numeric = await B('PUT', 'Observation/77', { body: observation({ id: '77' }) });
  assert.equal(numeric.status, 400, numeric.text);
  assert.match(numeric.json.issue[0].diagnostics, /^HAPI-0960: Can not create resource with ID\[77\]/);
  const named = await B('PUT', 'Observation/lab-77', { body: observation({ id: 'lab-77' }) });
  assert.ok([200, 201].includes(named.status), named.text); // HAPI: 201; fhir-router's update-as-create: 200
  const tx = await B('POST', '', {
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:0b6b5c3e-7a51-4a57-9a7e-2d1e9c0f0001', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }],
    },
  });
  assert.equal(tx.status, 200, tx.text);
  assert.match(tx.json.entry[0].response.location, /^Patient\/[0-9]+$/);
});

const tagged = (tag) => observation({ meta: { tag: [{ system: SYS, code: tag }] } });

await check('--paging hapi: next on the base with _getpages; pages are a snapshot; 410 HAPI-0417 once expired', async () => {
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await create(B, tagged('paging')));
  const first = await B('GET', `Observation?_tag=${SYS}|paging&_sort=_lastUpdated&_count=2`);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.total, 5);
  const next = first.json.link.find((l) => l.relation === 'next')?.url;
  const re = new RegExp(`^${baseB.replace(/[.[\]/]/g, '\\$&')}\\?_getpages=(${UUID})&_getpagesoffset=2&_count=2&_bundletype=searchset$`);
  const id = re.exec(next ?? '')?.[1];
  assert.ok(id, JSON.stringify(first.json.link));
  assert.equal(first.json.id, id);
  await create(B, tagged('paging')); // after the search: not in its pages
  const second = await B('GET', next);
  assert.equal(second.status, 200, second.text);
  assert.equal(second.json.total, 5);
  const third = await B('GET', second.json.link.find((l) => l.relation === 'next').url);
  assert.ok(!third.json.link.some((l) => l.relation === 'next'));
  const ids = [first, second, third].flatMap((r) => r.json.entry.map((e) => e.resource.id));
  assert.deepEqual(ids, made.map((m) => m.id));
  assert.ok(second.json.entry.every((e) => e.fullUrl === `${baseB}/Observation/${e.resource.id}`));
  await sleep(2300); // unused for longer than --search-expire-ms
  const expired = await B('GET', next);
  assert.equal(expired.status, 410, expired.text);
  assert.equal(expired.json.resourceType, 'OperationOutcome');
  assert.equal(expired.json.issue[0].diagnostics, `HAPI-0417: Search ID "${id}" does not exist and may have expired`);
  const unknown = await B('GET', `?_getpages=nonesuch&_getpagesoffset=2&_count=2&_bundletype=searchset`);
  assert.equal(unknown.status, 410);
});

await check('/_test/expire-page: the Nth page request from now finds its search expired', async () => {
  const origin = new URL(baseB).origin;
  const set = await request(origin, 'POST', `${origin}/_test/expire-page`, { body: { at: 2 } });
  assert.equal(set.status, 200, set.text);
  const first = await B('GET', `Observation?_tag=${SYS}|paging&_count=2`, { headers: { 'Cache-Control': 'no-cache' } });
  const next = first.json.link.find((l) => l.relation === 'next').url;
  assert.equal((await B('GET', next)).status, 200);
  const gone = await B('GET', next);
  assert.equal(gone.status, 410, gone.text);
  assert.match(gone.json.issue[0].diagnostics, /^HAPI-0417: /);
});

await check('--search-cache-ms: a repeated search is answered from the cache unless Cache-Control: no-cache', async () => {
  await create(B, tagged('cache'));
  const q = `Observation?_tag=${SYS}|cache`;
  const before = await B('GET', q);
  assert.equal(before.json.total, 1);
  await create(B, tagged('cache'));
  const cached = await B('GET', q);
  assert.equal(cached.json.total, 1, 'the repeated search saw the new resource');
  assert.equal(cached.json.id, before.json.id);
  const fresh = await B('GET', q, { headers: { 'Cache-Control': 'no-cache' } });
  assert.equal(fresh.json.total, 2);
  assert.notEqual(fresh.json.id, before.json.id);
  await sleep(1600); // past --search-cache-ms
  await create(B, tagged('cache'));
  assert.equal((await B('GET', q)).json.total, 3);
});

await check('--paging hapi: nenfhir\'s Patient?_id=...&_revinclude=... answers the Patient (fhir-router has no _revinclude)', async () => {
  const p = await create(B, { resourceType: 'Patient' });
  await create(B, observation({ subject: { reference: `Patient/${p.id}` } }));
  const r = await B('GET', `Patient?_id=${p.id}&_revinclude=Observation:subject`);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.entry.map((e) => [e.resource.id, e.search.mode]), [[p.id, 'match']]);
  assert.equal(r.json.link[0].url, `${baseB}/Patient?_id=${p.id}&_revinclude=Observation%3Asubject`);
});

await check('HAPI retry policy (no --delivery-retries): back-off 1 s, 1.1 s, ... until the window ends', async () => {
  const sub = await activeSubscription(B, `${hook}/fail-hapi`, `Observation?code=${LOINC}|66666-6`);
  await create(B, observation({ code: { coding: [{ system: LOINC, code: '66666-6' }] } }));
  const mine = async () => (await controlB('deliveries')).filter((d) => d.subscription === sub.id);
  await waitFor('3 attempts', async () => (await mine()).length >= 3);
  await sleep(2000); // a 4th would have come 1.21 s after the 3rd
  const records = await mine();
  assert.deepEqual(records.map((d) => [d.attempt, d.status]), [[1, 500], [2, 500], [3, 500]]);
  const t = records.map((d) => Date.parse(d.time));
  assert.ok(t[1] - t[0] >= 1000 && t[1] - t[0] < 1600, `first gap ${t[1] - t[0]} ms`);
  assert.ok(t[2] - t[1] >= 1100 && t[2] - t[1] < 1700, `second gap ${t[2] - t[1]} ms`);
});

await check('--delivery-delay-ms: a notification leaves no earlier than 300 ms after the write', async () => {
  await activeSubscription(B, `${hook}/delayed`, `Observation?code=${LOINC}|77777-7`, { payload: 'application/fhir+json' });
  const obs = await create(B, observation({ code: { coding: [{ system: LOINC, code: '77777-7' }] } }));
  const got = await waitFor('delayed PUT', () => received().find((r) => r.path === `/delayed/Observation/${obs.id}`));
  const late = Date.parse(got.time) - Date.parse(obs.meta.lastUpdated);
  assert.ok(late >= 300, `delivered ${late} ms after the write`);
});

console.log(`server hapi selftest: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
