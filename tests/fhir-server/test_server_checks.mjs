#!/usr/bin/env node
// The checks behind test_server.sh, run against a live server.mjs and
// test_receiver.mjs:
//   node test_server_checks.mjs DIR
// DIR holds ca.pem, cert.pem, cert.key, token, server.out (the server's
// {"base","port"} line), receiver.out ({"port"}) and received.jsonl (what the
// receiver got). Prints one line per check, then
// "server selftest: N passed, M failed"; exits 1 if any check failed.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadR4Definitions, writeErrors } from './fhir-validation.mjs';
import { Deliveries } from './server-delivery.mjs';
import { requestKind } from './server-stats.mjs';

const dir = process.argv[2];
const read = (name) => fs.readFileSync(path.join(dir, name), 'utf8');
const tls = { ca: read('ca.pem'), cert: read('cert.pem'), key: read('cert.key') };
const token = read('token').trim();
const { base, port } = JSON.parse(read('server.out'));
const origin = new URL(base).origin;
const hook = `https://127.0.0.1:${JSON.parse(read('receiver.out')).port}`;

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const SYS = 'urn:selftest';
const TOPIC = 'https://nenfhir.org/fhir/SubscriptionTopic/pathology-result';
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

// ---------------------------------------------------------------------------
// Helpers

// url: absolute, or relative to the FHIR base. body: an object (sent as FHIR
// JSON) or a string (with its Content-Type in headers).
function request(method, url, { body, headers = {}, auth = true, clientCert = true } = {}) {
  const target = new URL(url.startsWith('https:') ? url : `${base}/${url}`);
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const allHeaders = {
    ...(typeof body === 'object' ? { 'Content-Type': 'application/fhir+json' } : {}),
    ...(auth ? { Authorization: `Bearer ${token}` } : {}),
    ...headers,
  };
  const options = { method, headers: allHeaders, ca: tls.ca, agent: false, ...(clientCert ? { cert: tls.cert, key: tls.key } : {}) };
  return new Promise((resolve, reject) => {
    const req = https.request(target, options, (res) => {
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

const fhir = (method, rel, opts) => request(method, rel, opts);
const control = (name, body) =>
  request(body ? 'POST' : 'GET', `${origin}/_test/${name}`, {
    auth: false,
    ...(body ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
  });

async function create(resource) {
  const r = await fhir('POST', resource.resourceType, { body: resource });
  assert.equal(r.status, 201, `create ${resource.resourceType}: ${r.text}`);
  return r.json;
}

const received = () =>
  fs.existsSync(path.join(dir, 'received.jsonl'))
    ? read('received.jsonl').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
    : [];
const at = (prefix) => received().filter((r) => r.path.startsWith(prefix));

async function waitFor(what, fn, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const observation = (code, extra = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: LOINC, code }] },
  valueString: 'x',
  ...extra,
});

const subscription = (criteria, channel, extra = {}) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'server selftest',
  criteria,
  channel: { type: 'rest-hook', ...channel },
  ...extra,
});

const backportSubscription = (endpoint, filters, channelExtra = {}) =>
  subscription(
    TOPIC,
    {
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'full-resource' }] },
      header: ['Authorization: Bearer backport-hook'],
      ...channelExtra,
    },
    {
      meta: { profile: [`${BACKPORT}/backport-subscription`] },
      _criteria: { extension: filters.map((f) => ({ url: `${BACKPORT}/backport-filter-criteria`, valueString: f })) },
    }
  );

async function activeSubscription(resource) {
  const sub = await create(resource);
  await waitFor(`Subscription/${sub.id} active`, async () => (await fhir('GET', `Subscription/${sub.id}`)).json.status === 'active');
  return sub;
}

// The SubscriptionStatus parameters of a backport notification, by name.
function statusOf(bundle) {
  const params = bundle.entry[0].resource.parameter;
  const value = (name) => {
    const p = params.find((x) => x.name === name);
    return p && (p.valueString ?? p.valueCode ?? p.valueCanonical ?? p.valueReference?.reference);
  };
  const event = params.find((x) => x.name === 'notification-event');
  const part = (name) => event?.part.find((x) => x.name === name);
  return {
    type: value('type'),
    status: value('status'),
    since: value('events-since-subscription-start'),
    eventNumber: part('event-number')?.valueString,
    focus: part('focus')?.valueReference.reference,
  };
}

const backportBodies = (prefix) => at(prefix).map((r) => JSON.parse(r.body));
const backportEvent = (prefix, n) =>
  backportBodies(prefix).find((b) => statusOf(b).type === 'event-notification' && statusOf(b).eventNumber === String(n));

const transaction = (entries) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });

// ---------------------------------------------------------------------------
// Checks

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

loadR4Definitions();
const shared = {};

await check('base line and TLS: metadata over HTTPS with the printed base', async () => {
  assert.equal(base, `https://127.0.0.1:${port}/fhir`);
  const r = await fhir('GET', 'metadata');
  assert.equal(r.status, 200);
  assert.equal(r.json.resourceType, 'CapabilityStatement');
});

await check('--require-client-cert: a client without certificate is refused', async () => {
  await assert.rejects(fhir('GET', 'metadata', { clientCert: false }));
});

await check('--token-file: no or wrong bearer token gives 401 OperationOutcome', async () => {
  for (const opts of [{ auth: false }, { auth: false, headers: { Authorization: 'Bearer wrong' } }]) {
    const r = await fhir('GET', 'metadata', opts);
    assert.equal(r.status, 401);
    assert.equal(r.json.resourceType, 'OperationOutcome');
  }
});

await check('transaction: conditional PUT creates, then updates the same resource', async () => {
  const tx = (value) =>
    transaction([
      {
        fullUrl: 'urn:uuid:6f0b1c52-1111-4c0e-9d1a-0a0a0a0a0a01',
        resource: { resourceType: 'Patient', identifier: [{ system: SYS, value: 'patient-1' }] },
        request: { method: 'PUT', url: `Patient?identifier=${SYS}|patient-1` },
      },
      {
        fullUrl: 'urn:uuid:6f0b1c52-1111-4c0e-9d1a-0a0a0a0a0a02',
        resource: observation('12345-6', {
          identifier: [{ system: SYS, value: 'tx-1' }],
          subject: { reference: 'urn:uuid:6f0b1c52-1111-4c0e-9d1a-0a0a0a0a0a01' },
          valueString: value,
        }),
        request: { method: 'PUT', url: `Observation?identifier=${SYS}|tx-1` },
      },
    ]);
  const first = await fhir('POST', '', { body: tx('first') });
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.type, 'transaction-response');
  assert.deepEqual(first.json.entry.map((e) => e.response.status), ['201', '201']);
  const second = await fhir('POST', '', { body: tx('second') });
  assert.equal(second.status, 200, second.text);
  assert.deepEqual(second.json.entry.map((e) => e.response.status), ['200', '200']);
  const found = await fhir('GET', `Observation?identifier=${SYS}|tx-1`);
  assert.equal(found.json.total, 1);
  const obs = found.json.entry[0].resource;
  assert.equal(obs.valueString, 'second');
  assert.equal(obs.meta.versionId, '2');
  const patient = (await fhir('GET', `Patient?identifier=${SYS}|patient-1`)).json.entry[0].resource;
  assert.equal(obs.subject.reference, `Patient/${patient.id}`);
  Object.assign(shared, { patient, txObservation: obs });
});

await check('transaction: all or nothing (a failing entry undoes the others)', async () => {
  const r = await fhir('POST', '', {
    body: transaction([
      { resource: { resourceType: 'Patient', identifier: [{ system: SYS, value: 'rollback' }] }, request: { method: 'POST', url: 'Patient' } },
      {
        resource: { ...shared.txObservation, valueString: 'stale' },
        request: { method: 'PUT', url: `Observation/${shared.txObservation.id}`, ifMatch: 'W/"1"' },
      },
    ]),
  });
  assert.equal(r.status, 412, r.text);
  assert.equal((await fhir('GET', `Patient?identifier=${SYS}|rollback`)).json.total, 0);
});

await check('validation: invalid Observation gets 400 OperationOutcome naming the problem', async () => {
  const bogus = await fhir('POST', 'Observation', { body: observation('12345-6', { status: 'bogus' }) });
  assert.equal(bogus.status, 400);
  assert.equal(bogus.json.resourceType, 'OperationOutcome');
  assert.ok(bogus.json.issue.some((i) => i.expression?.includes('Observation.status') && /bogus/.test(i.diagnostics)), bogus.text);
  const unknown = await fhir('POST', 'Observation', { body: observation('12345-6', { colour: 'red' }) });
  assert.equal(unknown.status, 400);
  assert.ok(unknown.json.issue.some((i) => /colour/.test(i.diagnostics)), unknown.text);
  const inTx = await fhir('POST', '', {
    body: transaction([
      { resource: observation('12345-6'), request: { method: 'POST', url: 'Observation' } },
      { resource: observation('12345-6', { status: 'bogus' }), request: { method: 'POST', url: 'Observation' } },
    ]),
  });
  assert.equal(inTx.status, 400);
  assert.ok(inTx.json.issue.some((i) => i.expression?.includes('Bundle.entry[1].resource.status')), inTx.text);
});

await check('PUT Type/id: 201 Created when it creates (as HAPI answers), 200 when it updates', async () => {
  const url = `Observation/put-create-${Date.now()}`;
  const body = (v) => ({ ...observation('12345-6', { valueString: v }), id: url.split('/')[1] });
  const made = await fhir('PUT', url, { body: body('a') });
  assert.equal(made.status, 201, made.text);
  assert.ok(made.headers.location.startsWith(`${base}/${url}/_history/`), made.headers.location);
  const again = await fhir('PUT', url, { body: body('b') });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.id, made.json.id);
});

await check('REST conditional update, conditional create, no-op update, history newest first', async () => {
  const url = `Observation?identifier=${SYS}|rest-1`;
  const body = (v) => observation('12345-6', { identifier: [{ system: SYS, value: 'rest-1' }], valueString: v });
  const created = await fhir('PUT', url, { body: body('a') });
  assert.equal(created.status, 201, created.text);
  assert.ok(created.headers.location.startsWith(`${base}/Observation/${created.json.id}`));
  const updated = await fhir('PUT', url, { body: body('b') });
  assert.equal(updated.status, 200);
  assert.equal(updated.json.id, created.json.id);
  assert.equal(updated.headers.etag, 'W/"2"');
  const same = await fhir('PUT', url, { body: body('b') });
  assert.equal(same.json.meta.versionId, '2');
  const ifNoneExist = await fhir('POST', 'Observation', { body: body('c'), headers: { 'If-None-Exist': `identifier=${SYS}|rest-1` } });
  assert.equal(ifNoneExist.status, 200);
  assert.equal(ifNoneExist.json.id, created.json.id);
  assert.equal((await fhir('GET', url)).json.total, 1);
  for (let i = 0; i < 2; i++) {
    const history = await fhir('GET', `Observation/${created.json.id}/_history`);
    assert.deepEqual(history.json.entry.map((e) => e.resource.meta.versionId), ['2', '1']);
  }
  const v1 = await fhir('GET', `Observation/${created.json.id}/_history/1`);
  assert.equal(v1.json.valueString, 'a');
});

await check('search: _tag, _sort=_lastUpdated, _count with absolute next links, _lastUpdated=ge, subject', async () => {
  const tag = { meta: { tag: [{ system: SYS, code: 'page' }] } };
  const made = [];
  for (let i = 0; i < 3; i++) made.push(await create(observation('12345-6', tag)));
  const first = await fhir('GET', `Observation?_tag=${SYS}|page&_sort=_lastUpdated&_count=2`);
  assert.equal(first.json.total, 3);
  assert.equal(first.json.entry.length, 2);
  assert.ok(first.json.entry.every((e) => e.fullUrl === `${base}/Observation/${e.resource.id}`));
  const next = first.json.link.find((l) => l.relation === 'next');
  assert.ok(next?.url.startsWith(`${base}/Observation?`), JSON.stringify(first.json.link));
  const second = await fhir('GET', next.url);
  assert.equal(second.json.entry.length, 1);
  assert.ok(!second.json.link.some((l) => l.relation === 'next'));
  const ids = [...first.json.entry, ...second.json.entry].map((e) => e.resource.id);
  assert.deepEqual(ids, made.map((m) => m.id));
  const since = made[2].meta.lastUpdated;
  const recent = await fhir('GET', `Observation?_tag=${SYS}|page&_lastUpdated=ge${encodeURIComponent(since)}`);
  const expected = made.filter((m) => m.meta.lastUpdated >= since).map((m) => m.id);
  assert.deepEqual(recent.json.entry.map((e) => e.resource.id).sort(), expected.sort());
  const bySubject = await fhir('GET', `Observation?subject=Patient/${shared.patient.id}`);
  assert.deepEqual(bySubject.json.entry.map((e) => e.resource.id), [shared.txObservation.id]);
});

await check('XML: request body, Accept and _format=xml responses', async () => {
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?><Observation xmlns="http://hl7.org/fhir"><status value="final"/>' +
    `<code><coding><system value="${LOINC}"/><code value="12345-6"/></coding></code>` +
    '<valueQuantity><value value="1.50"/><unit value="mm"/></valueQuantity></Observation>';
  const headers = { 'Content-Type': 'application/fhir+xml', Accept: 'application/fhir+xml' };
  const r = await fhir('POST', 'Observation', { body: xml, headers });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers['content-type'], /application\/fhir\+xml/);
  const id = /<id value="([^"]+)"/.exec(r.text)?.[1];
  assert.ok(id, r.text);
  const json = await fhir('GET', `Observation/${id}`);
  assert.equal(json.json.valueQuantity.value, 1.5);
  const asXml = await fhir('GET', `Observation/${id}?_format=xml`);
  assert.match(asXml.text, /<Observation xmlns="http:\/\/hl7.org\/fhir">/);
  const bad = await fhir('POST', 'Observation', { body: '<Observation', headers });
  assert.equal(bad.status, 400);
  const dtd = await fhir('POST', 'Observation', { body: `<!DOCTYPE x [<!ENTITY a "b">]>${xml}`, headers });
  assert.equal(dtd.status, 400);
});

await check('HAPI style with payload: PUT {endpoint}/Type/id with the resource, DELETE on delete, headers sent', async () => {
  const sub = await activeSubscription(
    subscription(`Observation?code=${LOINC}|11111-1`, {
      endpoint: `${hook}/hapi`,
      payload: 'application/fhir+json',
      header: ['Authorization: Bearer hapi-hook'],
      extension: [{ url: 'http://hapifhir.io/fhir/StructureDefinition/subscription-send-delete-messages', valueBoolean: true }],
    })
  );
  assert.equal((await fhir('GET', `Subscription/${sub.id}/_history`)).json.entry.length, 2);
  await create(observation('99999-9'));
  const obs = await create(observation('11111-1'));
  const put = await waitFor('HAPI PUT', () => at('/hapi/').find((r) => r.method === 'PUT'));
  assert.equal(put.path, `/hapi/Observation/${obs.id}`);
  assert.equal(JSON.parse(put.body).id, obs.id);
  assert.equal(put.headers['content-type'], 'application/fhir+json; charset=UTF-8');
  assert.equal(put.headers['if-match'], 'W/"1"');
  assert.equal(put.headers.accept, 'application/fhir+json;q=1.0, application/json+fhir;q=0.9');
  assert.equal(put.headers['user-agent'], 'HAPI-FHIR/8.8.0 (FHIR Client; FHIR 4.0.1/R4; apache)');
  assert.equal(put.headers['accept-encoding'], 'gzip');
  assert.equal(put.headers.authorization, 'Bearer hapi-hook');
  assert.equal((await fhir('DELETE', `Observation/${obs.id}`)).status, 200);
  const del = await waitFor('HAPI DELETE', () => at('/hapi/').find((r) => r.method === 'DELETE'));
  assert.equal(del.path, `/hapi/Observation/${obs.id}`);
  assert.equal(del.body, '');
  assert.equal(del.headers['content-type'], undefined);
  assert.equal(del.headers['if-match'], undefined);
  assert.equal(del.headers.accept, 'application/fhir+json;q=1.0, application/json+fhir;q=0.9');
  assert.equal(del.headers.authorization, 'Bearer hapi-hook');
  assert.equal(at('/hapi/').length, 2);
});

await check('HAPI style with payload application/fhir+xml: PUT with XML; no DELETE unless asked for', async () => {
  await activeSubscription(
    subscription(`Observation?code=${LOINC}|44444-4`, { endpoint: `${hook}/hapixml/`, payload: 'application/fhir+xml' })
  );
  const obs = await create(observation('44444-4'));
  const put = await waitFor('HAPI XML PUT', () => at('/hapixml/')[0]);
  assert.equal(put.path, `/hapixml/Observation/${obs.id}`);
  assert.equal(put.headers['content-type'], 'application/fhir+xml; charset=UTF-8');
  assert.equal(put.headers.accept, 'application/fhir+xml;q=1.0, application/xml+fhir;q=0.9');
  assert.equal(put.headers['if-match'], 'W/"1"');
  assert.match(put.body, new RegExp(`<Observation xmlns="http://hl7.org/fhir"><id value="${obs.id}"/>`));
  assert.equal((await fhir('DELETE', `Observation/${obs.id}`)).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(at('/hapixml/').length, 1, 'a DELETE was sent without subscription-send-delete-messages');
});

await check('HAPI style without payload: bodiless POST {endpoint} with a form Content-Type and a stray If-None-Exist', async () => {
  await activeSubscription(subscription(`Condition?code=${SCT}|1111`, { endpoint: `${hook}/empty` }));
  await create({ resourceType: 'Condition', code: { coding: [{ system: SCT, code: '1111' }] }, subject: { reference: `Patient/${shared.patient.id}` } });
  const post = await waitFor('empty POST', () => at('/empty')[0]);
  assert.equal(post.method, 'POST');
  assert.equal(post.body, '');
  assert.equal(post.headers['content-length'], '0');
  assert.equal(post.headers['content-type'], 'application/x-www-form-urlencoded; charset=UTF-8');
  assert.equal(post.headers['if-none-exist'], `${hook}/empty, ${hook}/empty?`);
  assert.equal(post.headers.accept,
    'application/fhir+xml;q=1.0, application/fhir+json;q=1.0, application/xml+fhir;q=0.9, application/json+fhir;q=0.9');
  assert.equal(post.headers['user-agent'], 'HAPI-FHIR/8.8.0 (FHIR Client; FHIR 4.0.1/R4; apache)');
});

await check('HAPI style without payload, deletes asked for: a delete is announced as a bodiless POST too', async () => {
  await activeSubscription(subscription(`Condition?code=${SCT}|2222`, {
    endpoint: `${hook}/emptydel`,
    extension: [{ url: 'http://hapifhir.io/fhir/StructureDefinition/subscription-send-delete-messages', valueBoolean: true }],
  }));
  const cond = await create({ resourceType: 'Condition', code: { coding: [{ system: SCT, code: '2222' }] }, subject: { reference: `Patient/${shared.patient.id}` } });
  await waitFor('POST for the create', () => at('/emptydel')[0]);
  assert.equal((await fhir('DELETE', `Condition/${cond.id}`)).status, 200);
  const del = await waitFor('POST for the delete', () => at('/emptydel')[1]);
  assert.deepEqual([del.method, del.path, del.body], ['POST', '/emptydel', '']);
  assert.equal(del.headers['content-type'], 'application/x-www-form-urlencoded; charset=UTF-8');
  const records = (await control('deliveries')).json.filter((d) => d.url === `${hook}/emptydel`);
  assert.deepEqual(records.map((d) => d.method), ['POST', 'POST']);
});

await check('Medplum style: POST with the resource, X-Signature HMAC, no channel.header; {} on delete', async () => {
  const secret = 'medplum-secret';
  const sub = subscription(
    `Observation?code=${LOINC}|22222-2`,
    { endpoint: `${hook}/medplum`, header: ['X-Custom: must-not-be-sent'] },
    {
      extension: [
        { url: 'https://nenfhir.org/test/StructureDefinition/notification-style', valueCode: 'medplum' },
        { url: 'https://www.medplum.com/fhir/StructureDefinition/subscription-secret', valueString: secret },
        ...['create', 'update', 'delete'].map((valueCode) => ({
          url: 'https://medplum.com/fhir/StructureDefinition/subscription-supported-interaction',
          valueCode,
        })),
      ],
    }
  );
  await activeSubscription(sub);
  const obs = await create(observation('22222-2'));
  const post = await waitFor('Medplum POST', () => at('/medplum')[0]);
  assert.equal(post.method, 'POST');
  assert.equal(JSON.parse(post.body).id, obs.id);
  assert.equal(post.headers['x-signature'], createHmac('sha256', secret).update(post.body).digest('hex'));
  assert.equal(post.headers['x-custom'], undefined);
  await fhir('DELETE', `Observation/${obs.id}`);
  const del = await waitFor('Medplum delete', () => at('/medplum')[1]);
  assert.equal(del.body, '{}');
  assert.equal(del.headers['x-medplum-deleted-resource'], `Observation/${obs.id}`);
  assert.equal(del.headers['x-signature'], createHmac('sha256', secret).update('{}').digest('hex'));
});

await check('backport: handshake, then events 1 and 2 with full-resource payload (valid R4 Bundles)', async () => {
  const sub = await create(
    backportSubscription(`${hook}/backport`, [`Observation?code=${LOINC}|33333-3`, `Condition?code=${SCT}|3333`])
  );
  const handshake = await waitFor('handshake', () => backportBodies('/backport')[0]);
  assert.deepEqual([statusOf(handshake).type, statusOf(handshake).status, statusOf(handshake).since], ['handshake', 'requested', '0']);
  assert.equal(at('/backport')[0].headers.authorization, 'Bearer backport-hook');
  await waitFor('backport Subscription active', async () => (await fhir('GET', `Subscription/${sub.id}`)).json.status === 'active');
  const first = await create(observation('33333-3'));
  await create(observation('99999-9'));
  const second = await create(observation('33333-3'));
  for (const [n, obs] of [[1, first], [2, second]]) {
    const bundle = await waitFor(`event ${n}`, () => backportEvent('/backport', n));
    assert.equal(bundle.type, 'history');
    const s = statusOf(bundle);
    assert.deepEqual([s.status, s.since, s.focus], ['active', String(n), `${base}/Observation/${obs.id}`]);
    assert.equal(bundle.entry[1].fullUrl, s.focus);
    assert.equal(bundle.entry[1].resource.id, obs.id);
    assert.equal(bundle.entry[1].request.method, 'POST');
    assert.deepEqual(writeErrors(bundle), []);
  }
  assert.deepEqual(writeErrors(handshake), []);
  shared.backport = sub;
});

await check('drop control: event 3 never arrives, event 4 says events-since-subscription-start 4', async () => {
  assert.equal((await control('drop', { count: 1 })).status, 200);
  await create(observation('33333-3'));
  const fourth = await create(observation('33333-3'));
  const bundle = await waitFor('event 4', () => backportEvent('/backport', 4));
  assert.equal(statusOf(bundle).since, '4');
  assert.equal(bundle.entry[1].resource.id, fourth.id);
  assert.equal(backportEvent('/backport', 3), undefined);
  const records = (await control('deliveries')).json.filter((d) => d.subscription === shared.backport.id);
  assert.ok(records.some((d) => d.event === 3 && d.dropped && d.status === null));
  await fhir('DELETE', `Observation/${fourth.id}`);
  const deleted = await waitFor('event 5 (delete)', () => backportEvent('/backport', 5));
  assert.equal(deleted.entry[1].request.method, 'DELETE');
  assert.equal(deleted.entry[1].resource, undefined);
});

await check('retries: a failing endpoint gets 1 + --delivery-retries attempts, then is given up', async () => {
  const sub = await activeSubscription(subscription(`Observation?code=${LOINC}|55555-5`, { endpoint: `${hook}/fail` }));
  await create(observation('55555-5'));
  const mine = async () => (await control('deliveries')).json.filter((d) => d.subscription === sub.id);
  await waitFor('2 attempts', async () => (await mine()).length === 2);
  await sleep(300);
  const records = await mine();
  assert.deepEqual(records.map((d) => [d.attempt, d.status, d.event, d.style]), [[1, 500, 1, 'hapi'], [2, 500, 1, 'hapi']]);
  assert.equal(at('/fail').length, 2);
});

await check('backport: a refused handshake puts the Subscription in error', async () => {
  const sub = await create(backportSubscription(`${hook}/fail-handshake`, []));
  const failed = await waitFor('status error', async () => {
    const r = await fhir('GET', `Subscription/${sub.id}`);
    return r.json.status === 'error' && r.json;
  });
  assert.match(failed.error, /handshake failed/);
});

await check('backport: heartbeats on the heartbeat period', async () => {
  await create(
    backportSubscription(`${hook}/heartbeat`, [`Observation?code=${LOINC}|none`], {
      extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 1 }],
    })
  );
  const beat = await waitFor('heartbeat', () => backportBodies('/heartbeat').find((b) => statusOf(b).type === 'heartbeat'));
  assert.deepEqual([statusOf(beat).status, statusOf(beat).since], ['active', '0']);
});

await check('fail-writes: 503 with Retry-After on writes, reads work, writes come back', async () => {
  assert.equal((await control('fail-writes', { seconds: 1, status: 503, retryAfter: 1 })).status, 200);
  const w = await fhir('POST', 'Observation', { body: observation('12345-6') });
  assert.equal(w.status, 503);
  assert.equal(w.headers['retry-after'], '1');
  assert.equal(w.json.resourceType, 'OperationOutcome');
  assert.equal((await fhir('POST', '', { body: transaction([{ resource: observation('1'), request: { method: 'POST', url: 'Observation' } }]) })).status, 503);
  assert.equal((await fhir('GET', `Observation/${shared.txObservation.id}`)).status, 200);
  await sleep(1100);
  await create(observation('12345-6'));
});

await check('reject-writes: the next write containing the type gets 400, others pass', async () => {
  assert.equal((await control('reject-writes', { count: 1, resourceType: 'DiagnosticReport' })).status, 200);
  await create(observation('12345-6'));
  const tx = transaction([
    {
      resource: {
        resourceType: 'DiagnosticReport',
        identifier: [{ system: SYS, value: 'dr-1' }],
        status: 'final',
        code: { coding: [{ system: LOINC, code: '60568-3' }] },
        subject: { reference: `Patient/${shared.patient.id}` },
      },
      request: { method: 'PUT', url: `DiagnosticReport?identifier=${SYS}|dr-1` },
    },
  ]);
  const rejected = await fhir('POST', '', { body: tx });
  assert.equal(rejected.status, 400);
  const issue = rejected.json.issue[0];
  assert.equal(issue.severity, 'error');
  assert.deepEqual(issue.expression, ['Bundle.entry[0].resource']);
  assert.match(issue.diagnostics, /rejected by the test control/);
  assert.equal((await control('counts?type=DiagnosticReport')).json.count, 0);
  assert.equal((await fhir('POST', '', { body: tx })).status, 200);
  assert.equal((await control('counts?type=DiagnosticReport')).json.count, 1);
});

await check('fail-writes: Retry-After verbatim or as an HTTP-date; only writes of a resource type', async () => {
  const huge = '100000000000000000000';
  assert.equal((await control('fail-writes', { seconds: 1, status: 429, retryAfter: huge, resourceType: 'DiagnosticReport' })).status, 200);
  await create(observation('12345-6')); // holds no DiagnosticReport: passes
  const report = {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '60568-3' }] },
    subject: { reference: `Patient/${shared.patient.id}` },
  };
  const w = await fhir('POST', 'DiagnosticReport', { body: report });
  assert.equal(w.status, 429);
  assert.equal(w.headers['retry-after'], huge);
  assert.equal((await control('fail-writes', { seconds: 1, status: 503, retryAfterIn: 30 })).status, 200);
  const d = await fhir('POST', 'Observation', { body: observation('12345-6') });
  assert.equal(d.status, 503);
  const ahead = Date.parse(d.headers['retry-after']) - Date.now();
  assert.ok(ahead > 25000 && ahead <= 31000, `Retry-After: ${d.headers['retry-after']}`);
  assert.equal((await control('reset', {})).status, 200);
  await create(observation('12345-6'));
});

await check('fail-reads: GETs below a path answer the status; other reads and writes work', async () => {
  assert.equal((await control('fail-reads', { seconds: 1, status: 410, path: 'Observation' })).status, 200);
  const r = await fhir('GET', `Observation?subject=Patient/${shared.patient.id}`);
  assert.equal(r.status, 410);
  assert.equal(r.json.resourceType, 'OperationOutcome');
  assert.equal((await fhir('GET', `Patient/${shared.patient.id}`)).status, 200);
  await create(observation('12345-6'));
  await sleep(1100);
  assert.equal((await fhir('GET', `Observation/${shared.txObservation.id}`)).status, 200);
});

await check('fail-reads by count: the next N GETs below a path fail, then they work', async () => {
  assert.equal((await control('fail-reads', { count: 2, status: 503, path: 'Observation' })).status, 200);
  assert.equal((await fhir('GET', `Patient/${shared.patient.id}`)).status, 200); // not counted
  assert.equal((await fhir('GET', 'Observation?_count=1')).status, 503);
  assert.equal((await fhir('GET', 'Observation?_count=1')).status, 503);
  assert.equal((await fhir('GET', 'Observation?_count=1')).status, 200);
  assert.equal((await fhir('GET', `Observation/${shared.txObservation.id}`)).status, 200);
});

await check('foreign-next: Bundle links name another host; requests that follow are recorded', async () => {
  assert.equal((await control('foreign-next', { host: 'localhost' })).status, 200);
  const page = await fhir('GET', 'Observation?_count=1');
  const next = page.json.link.find((l) => l.relation === 'next');
  assert.ok(next, 'a next link');
  const u = new URL(next.url);
  assert.deepEqual([u.hostname, u.port], ['localhost', String(port)]);
  assert.deepEqual((await control('foreign')).json, []);
  assert.equal((await request('GET', next.url)).status, 200);
  const seen = (await control('foreign')).json;
  assert.equal(seen.length, 1);
  assert.equal(seen[0].authorization, true);
  assert.equal((await control('foreign-next', {})).status, 200);
  const again = await fhir('GET', 'Observation?_count=1');
  assert.equal(new URL(again.json.link.find((l) => l.relation === 'next').url).hostname, '127.0.0.1');
});

await check('down: connections refused, then back on the same port with the data', async () => {
  assert.equal((await control('down', { seconds: 1 })).status, 200);
  await sleep(150);
  await assert.rejects(fhir('GET', 'metadata'), (err) => err.code === 'ECONNREFUSED');
  await waitFor('server back', async () => (await fhir('GET', 'metadata').catch(() => ({}))).status === 200);
  const obs = await fhir('GET', `Observation/${shared.txObservation.id}`);
  assert.equal(obs.json.valueString, 'second');
});

await check('/_test: deliveries record shape, reset, unknown control is 404', async () => {
  const record = (await control('deliveries')).json[0];
  for (const key of ['time', 'subscription', 'style', 'method', 'url', 'event', 'type', 'status', 'error', 'dropped']) {
    assert.ok(key in record, `deliveries record lacks ${key}`);
  }
  assert.equal((await control('reset', {})).status, 200);
  assert.equal((await control('nonsense')).status, 404);
});

await check('/_test/stats: requests by kind and X-Test-Client, report writes, reset-stats', async () => {
  assert.equal((await control('reset-stats', {})).status, 200);
  await fhir('GET', 'metadata');
  await fhir('GET', 'Observation?code=x');
  await fhir('GET', 'Observation?code=x', { headers: { 'X-Test-Client': 'lis' } });
  const report = await create({
    resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' },
  });
  const stats = (await control('stats')).json;
  assert.deepEqual(stats.requests, { 'GET metadata': 1, 'GET search Observation': 1, 'POST create DiagnosticReport': 1 });
  assert.deepEqual(stats.byClient, { lis: { 'GET search Observation': 1 } });
  assert.deepEqual(stats.reports, { count: 1, writes: 1 });
  const writes = (await control('report-writes')).json;
  assert.deepEqual(writes.map((r) => [r.id, r.subject, r.writes.map((w) => w.status)]), [[report.id, 'Patient/p1', ['final']]]);
  assert.equal(requestKind('POST', '', new URLSearchParams(), { resourceType: 'Bundle', type: 'transaction' }), 'POST transaction');
  assert.equal(requestKind('GET', 'Patient/1', new URLSearchParams(), undefined), 'GET read Patient');
  assert.equal(requestKind('PUT', 'Observation', new URLSearchParams('identifier=a|b'), {}), 'PUT conditional-update Observation');
  assert.equal((await control('reset-stats', {})).status, 200);
  assert.deepEqual((await control('stats')).json.requests, {});
});

await check('--delivery-concurrency: N in flight per Subscription, in order per resource', async () => {
  const started = [];
  const gates = new Map();
  const d = new Deliveries({ retries: 0, retryDelayMs: 0, concurrency: 3, log: () => {} });
  d.attempt = (request) => new Promise((resolve) => {
    started.push(request.url);
    gates.set(request.url, () => resolve({ ok: true, status: 200, error: null }));
  });
  const note = (type, n) => ({ subscription: 's', style: 'hapi', event: n, type, request: { method: 'POST', url: `${type}#${n}` } });
  const done = [note('A', 1), note('A', 2), note('B', 3), note('C', 4), note('D', 5)].map((n) => d.send(n));
  await sleep(10);
  assert.deepEqual(started, ['A#1', 'B#3', 'C#4']); // A#2 waits for A#1; three in flight
  gates.get('B#3')();
  await sleep(10);
  assert.deepEqual(started, ['A#1', 'B#3', 'C#4', 'D#5']);
  gates.get('A#1')();
  await sleep(10);
  assert.deepEqual(started, ['A#1', 'B#3', 'C#4', 'D#5', 'A#2']);
  for (const key of ['C#4', 'D#5', 'A#2']) gates.get(key)();
  await Promise.all(done);
  assert.equal(d.stats.notifications, 5);
  assert.equal(d.stats.maxInFlight, 3);
  // concurrency 1 (the default): strictly one at a time, in queue order
  const one = new Deliveries({ retries: 0, retryDelayMs: 0, log: () => {} });
  const order = [];
  one.attempt = async (request) => {
    order.push(request.url);
    await sleep(1);
    return { ok: true, status: 200, error: null };
  };
  await Promise.all([note('A', 1), note('B', 2), note('A', 3), note('C', 4)].map((n) => one.send(n)));
  assert.deepEqual(order, ['A#1', 'B#2', 'A#3', 'C#4']);
  assert.equal(one.stats.maxInFlight, 1);
});

console.log(`server selftest: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
