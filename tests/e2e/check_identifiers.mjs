// check_identifiers.mjs - issue 13 item 3 (I8, I14): the resources nenfhir wrote on a
// FHIR server (its meta.tag), by business identity: every DiagnosticReport, Observation
// and Device by its first identifier (system|value), every Provenance by its
// https://nenfhir.org/fhir/id/provenance tag when it has one, else by id. Prints one JSON
// line {Type: {count, distinct, duplicates: [identity...]}} and exits 1 when an identity is
// held by more than one resource (a duplicate write), 0 otherwise.
//
//   node check_identifiers.mjs --base URL --ca FILE [--type T]...
//
// Follows the search's next links (HAPI's and the test server's are absolute).

import https from 'node:https';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const TAG = 'https://nenfhir.org/fhir/CodeSystem/meta-tag|nenfhir-generated';
const PROV_TAG = 'https://nenfhir.org/fhir/id/provenance';
const { values: o } = parseArgs({
  options: { base: { type: 'string' }, ca: { type: 'string' }, type: { type: 'string', multiple: true } },
});
if (!o.base || !o.ca) {
  console.error('usage: node check_identifiers.mjs --base URL --ca FILE [--type T]...');
  process.exit(2);
}
const ca = readFileSync(o.ca);

function get(url) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { Accept: 'application/fhir+json', 'Cache-Control': 'no-cache' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET ${url}: HTTP ${res.statusCode} ${body.slice(0, 300)}`))));
    });
    req.setTimeout(60000, () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
  });
}

function identity(r) {
  if (r.resourceType === 'Provenance') {
    const t = (r.meta?.tag ?? []).find((x) => x.system === PROV_TAG);
    return t ? `${t.system}|${t.code}` : `id ${r.id}`;
  }
  const i = (r.identifier ?? [])[0];
  return i ? `${i.system ?? ''}|${i.value ?? ''}` : `id ${r.id}`;
}

const out = {};
let bad = false;
for (const type of o.type ?? ['DiagnosticReport', 'Observation', 'Provenance', 'Device']) {
  const seen = new Map();
  let url = `${o.base}/${type}?_tag=${encodeURIComponent(TAG)}&_count=200`;
  for (let pages = 0; url && pages < 1000; pages++) {
    const b = await get(url);
    for (const e of b.entry ?? []) {
      if (e.resource?.resourceType !== type) continue;
      const k = identity(e.resource);
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    url = (b.link ?? []).find((l) => l.relation === 'next')?.url;
  }
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
  const count = [...seen.values()].reduce((a, n) => a + n, 0);
  out[type] = { count, distinct: seen.size, duplicates };
  if (duplicates.length) bad = true;
}
console.log(JSON.stringify(out));
process.exit(bad ? 1 : 0);
