#!/usr/bin/env node
// hapi_results.mjs - what bench/side_by_side.sh --server hapi reads from a real
// HAPI FHIR server (tests/hapi-server), which has no /_test controls as the Node
// test server has: the same figures from HAPI's own API and access log.
//
//   node bench/hapi_results.mjs wait --base URL --ca FILE --cases N [--timeout S]
//       until N of nenfhir's DiagnosticReports (tag meta-tag|nenfhir-generated)
//       are final or amended: GET DiagnosticReport?_tag=..&status=final,amended
//       &_summary=count with Cache-Control: no-cache (HAPI caches a repeated
//       search 60 s otherwise), every 2 s. Exit 1 on timeout (default 3600 s).
//   node bench/hapi_results.mjs report-writes --base URL --ca FILE
//       every stored version of every DiagnosticReport, from
//       GET DiagnosticReport/_history (paged), as GET /_test/report-writes of
//       the Node server gives it: [{id, subject, writes: [{ms, status, versionId}]}],
//       ms = meta.lastUpdated (HAPI's clock: when the write's transaction
//       stored it; the same machine's clock as the LIS's timestamps).
//   node bench/hapi_results.mjs stats --log FILE [--from LINE] [--agent PREFIX] [--notifications N]
//       nenfhir's requests by kind ("GET search Observation", "POST transaction",
//       ...: tests/fhir-server/server-stats.mjs's requestKind) from the access log
//       of tests/hapi-server (logger nenfhir.hapi.access, one line per request
//       with its User-Agent), lines after LINE (1-based, default 0) whose
//       User-Agent starts with PREFIX (default "nenfhir"): {"requests": {...},
//       "refused": N, "lines": TOTAL_LINES} (with --notifications N also
//       "deliveries": {"notifications": N}). A POST to the base is counted as
//       "POST transaction" (nenfhir posts no batch); refused = "ERROR" lines of
//       any client after LINE.
// Node 20, built-in modules only. Exit 0, 1 on failure, 2 on usage.

import fs from 'node:fs';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestKind } from '../tests/fhir-server/server-stats.mjs';

const TAG = 'https://nenfhir.org/fhir/CodeSystem/meta-tag|nenfhir-generated';
const [cmd, ...rest] = process.argv.slice(2);
const { values: o } = parseArgs({
  args: rest,
  options: {
    base: { type: 'string' },
    ca: { type: 'string' },
    cases: { type: 'string' },
    timeout: { type: 'string', default: '3600' },
    log: { type: 'string' },
    from: { type: 'string', default: '0' },
    agent: { type: 'string', default: 'nenfhir' },
    notifications: { type: 'string' },
  },
});

const ca = o.ca ? fs.readFileSync(o.ca) : undefined;
const agent = new https.Agent({ keepAlive: true, maxSockets: 2, ca });

// GET url (absolute) -> parsed JSON; throws on a non-200 answer.
function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, {
      agent,
      headers: { Accept: 'application/fhir+json', 'Cache-Control': 'no-cache', 'X-Test-Client': 'bench' },
      timeout: 120_000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new Error(`GET ${url}: ${e.message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
  });
}

const base = () => {
  if (!o.base) usage();
  return o.base.replace(/\/+$/, '');
};

function usage() {
  console.error('usage: hapi_results.mjs wait --base URL --ca FILE --cases N [--timeout S]\n'
    + '       hapi_results.mjs report-writes --base URL --ca FILE\n'
    + '       hapi_results.mjs stats --log FILE [--from LINE] [--agent PREFIX] [--notifications N]');
  process.exit(2);
}

async function cmdWait() {
  const n = Number(o.cases);
  if (!(n > 0)) usage();
  const url = `${base()}/DiagnosticReport?_tag=${encodeURIComponent(TAG)}&status=final,amended&_summary=count`;
  const deadline = Date.now() + Number(o.timeout) * 1000;
  let total = -1;
  let lastErr = null;
  for (;;) {
    try {
      total = (await getJson(url)).total ?? 0;
      lastErr = null;
    } catch (e) {
      lastErr = e;
    }
    if (total >= n) break;
    if (Date.now() >= deadline) {
      console.error(`hapi_results: ${total} of ${n} final reports after ${o.timeout} s${lastErr ? ` (${lastErr.message})` : ''}`);
      process.exit(1);
    }
    await sleep(2000);
  }
  console.log(`${total} final or amended reports`);
}

async function cmdReportWrites() {
  const reports = new Map();
  let url = `${base()}/DiagnosticReport/_history?_count=200`;
  while (url) {
    const b = await getJson(url);
    for (const e of b.entry ?? []) {
      const r = e.resource;
      if (!r || r.resourceType !== 'DiagnosticReport') continue; // a deleted version has none
      let rep = reports.get(r.id);
      if (!rep) reports.set(r.id, (rep = { id: r.id, subject: r.subject?.reference ?? null, writes: [] }));
      rep.writes.push({ ms: Date.parse(r.meta?.lastUpdated), status: r.status, versionId: r.meta?.versionId });
    }
    url = (b.link ?? []).find((l) => l.relation === 'next')?.url ?? null;
  }
  for (const r of reports.values()) r.writes.sort((a, b) => a.ms - b.ms);
  console.log(JSON.stringify([...reports.values()]));
}

// An access line: "... nenfhir.hapi.access ... : VERB URL [content-type] USER-AGENT -> N ms"
const ACCESS = / : (GET|POST|PUT|DELETE|PATCH|HEAD) (\S+) \[[^\]]*\] ?(.*?) -> \d+ ms\s*$/;
const REFUSED = /nenfhir\.hapi\.access.* : ERROR (\S+) /;

function cmdStats() {
  if (!o.log) usage();
  const lines = fs.readFileSync(o.log, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const from = Number(o.from);
  const requests = {};
  let refused = 0;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i];
    if (!line.includes('nenfhir.hapi.access')) continue;
    if (REFUSED.test(line)) {
      refused++;
      continue;
    }
    const m = ACCESS.exec(line);
    if (!m || !m[3].startsWith(o.agent)) continue;
    const [, method, raw] = m;
    let u;
    try {
      u = new URL(raw);
    } catch {
      continue;
    }
    const path = u.pathname.replace(/^\/fhir\/?/, '/');
    let kind = requestKind(method, path, u.searchParams.toString(), null);
    if (kind === 'POST base') kind = 'POST transaction';
    if (kind === 'GET base' && u.searchParams.has('_getpages')) kind = 'GET page (_getpages)';
    requests[kind] = (requests[kind] ?? 0) + 1;
  }
  const out = { requests, refused, lines: lines.length };
  // the deliveries nenfhir received (its nenfhir_notifications_total), when given
  if (o.notifications !== undefined && o.notifications !== '') out.deliveries = { notifications: Number(o.notifications) };
  console.log(JSON.stringify(out));
}

try {
  if (cmd === 'wait') await cmdWait();
  else if (cmd === 'report-writes') await cmdReportWrites();
  else if (cmd === 'stats') cmdStats();
  else usage();
} catch (e) {
  console.error(`hapi_results: ${e.message}`);
  process.exit(1);
} finally {
  agent.destroy();
}
