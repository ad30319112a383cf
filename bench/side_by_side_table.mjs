#!/usr/bin/env node
// side_by_side_table.mjs DIR CASES CONCURRENCY DELIVERY_CONCURRENCY STYLE... -
// the table of bench/side_by_side.sh from the files it left in DIR:
//   ceiling.json                 bench/ceiling.mjs's result
//   STYLE-post.jsonl             lis.mjs post --json (per case: patient, firstMs, lastMs)
//   STYLE-stats.json             the server's GET /_test/stats after the run
//   STYLE-report-writes.json     GET /_test/report-writes (every DiagnosticReport version stored)
//   STYLE-hwm.txt                the daemon's VmHWM (kB)
// BENCH_SERVER=hapi: the files come from bench/hapi_results.mjs (HAPI FHIR):
// the deliveries are those nenfhir counted (none when polling), and the
// writes HAPI refused (its validator or storage) are a row of their own.
import fs from 'node:fs';
import path from 'node:path';

const [dir, casesArg, conc, dconc, ...styles] = process.argv.slice(2);
const cases = Number(casesArg);
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const ceiling = read('ceiling.json');
const hapi = process.env.BENCH_SERVER === 'hapi';

const GOALS = { ratio: 0.9, beyond: 1.2, writes: 1.05, rssMiB: 16 };
const rows = [];
const row = (what, value, goal = '', ok = null) =>
  rows.push([what, value, goal, ok === null ? '' : ok ? 'PASS' : 'SHORT']);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

row(`ceiling: report transactions/s (plain client, ${ceiling.concurrency} at a time)`, f1(ceiling.perSecond));
row('ceiling: transaction p50 / p99 ms', `${ceiling.p50Ms} / ${ceiling.p99Ms}`);

for (const style of styles) {
  const posted = fs.readFileSync(path.join(dir, `${style}-post.jsonl`), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l)).filter((r) => r.patient);
  const stats = read(`${style}-stats.json`);
  const writes = read(`${style}-report-writes.json`);
  const hwmKiB = Number(fs.readFileSync(path.join(dir, `${style}-hwm.txt`), 'utf8').trim());
  const bySubject = new Map();
  for (const r of writes) {
    if (!bySubject.has(r.subject)) bySubject.set(r.subject, []);
    bySubject.get(r.subject).push(...r.writes);
  }
  const start = Math.min(...posted.map((p) => p.firstMs));
  let end = 0;
  const lat = [];
  let missing = 0;
  for (const p of posted) {
    const finals = (bySubject.get(p.patient) ?? []).filter((w) => w.status === 'final' || w.status === 'amended')
      .map((w) => w.ms).sort((a, b) => a - b);
    if (!finals.length) {
      missing++;
      continue;
    }
    // the first final version stored after the last input; if none (the last
    // input changed nothing in the report, so no new version), the last one
    const at = finals.find((ms) => ms >= p.lastMs) ?? finals[finals.length - 1];
    lat.push(Math.max(0, at - p.lastMs));
    end = Math.max(end, at);
  }
  lat.sort((a, b) => a - b);
  const e2e = posted.length / ((end - start) / 1000);
  const ratio = e2e / ceiling.perSecond;
  const req = stats.requests;
  const total = Object.values(req).reduce((a, b) => a + b, 0);
  const tx = req['POST transaction'] ?? 0;
  const n = posted.length;
  const s = `${style}:`;
  row(`${s} end to end cases/s (LIS ${conc} cases at a time, first post to last report)`, f1(e2e));
  row(`${s} ratio e2e / ceiling`, f2(ratio), `>= ${GOALS.ratio}`, ratio >= GOALS.ratio);
  for (const [kind, count] of Object.entries(req).sort((a, b) => b[1] - a[1])) {
    row(`${s}   requests per case: ${kind}`, f2(count / n));
  }
  row(`${s} requests per case beyond the write`, f2((total - tx) / n), `<= ${GOALS.beyond}`, (total - tx) / n <= GOALS.beyond);
  row(`${s} report writes per case (transactions / ${n} cases)`, f2(tx / n), `<= ${GOALS.writes}`, tx / n <= GOALS.writes);
  row(`${s} last input -> report p50 / p99 ms`, `${pct(lat, 50)} / ${pct(lat, 99)}`);
  row(`${s} daemon peak RSS (VmHWM) MiB, ${n} cases`, f1(hwmKiB / 1024), `<= ${GOALS.rssMiB}`, hwmKiB / 1024 <= GOALS.rssMiB);
  const d = stats.deliveries;
  if (!hapi) {
    row(`${s} notifications delivered (most in flight; mean attempt ms)`,
      `${d.notifications} (${d.maxInFlight}; ${f1(d.attemptMs / Math.max(1, d.attempts))})`);
  } else {
    if (d) row(`${s} notifications HAPI delivered (nenfhir's count)`, String(d.notifications));
    row(`${s} requests HAPI refused (validator, storage; any client)`, String(stats.refused), '0', stats.refused === 0);
  }
  if (missing) row(`${s} cases without a final report`, String(missing), '0', false);
}

if (hapi) console.log(`\nside by side against HAPI FHIR (tests/hapi-server): ${cases} cases, concurrency ${conc}`);
else console.log(`\nside by side: ${cases} cases, concurrency ${conc}, server delivery concurrency ${dconc}`);
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), ['figure', 'value', 'goal', ''][i].length));
const line = (r) => r.map((c, i) => (i === 1 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
console.log(line(['figure', 'value', 'goal', '']));
for (const r of rows) console.log(line(r));
