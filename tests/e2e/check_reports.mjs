// check_reports.mjs - end-to-end check of what nenfhir wrote: for each
// example case file given, every report whose identifier is the case's
// specimen accession (or a numbered copy of it, "-0001"...) must carry a
// text/plain presentedForm whose machine summary (its last section) is the
// case's .expected summary (the same lines `nenfhir classify --summary`
// gives offline), a conclusion that is one readable sentence, a narrative
// that is FHIR xhtml and both presentedForms (nenfhir-checks.mjs); and no
// identifier may appear twice. Warnings may name the resources they are
// about: offline those are the Bundle's urn:uuid fullUrls, on the server its
// own ids, in the server's order; so resource names in warnings compare as
// one placeholder and the warning lines as a set. Usage: node
// check_reports.mjs REPORTS.jsonl [--copies N] CASE.json... (REPORTS.jsonl:
// `lis.mjs reports --json`, with each report's narrative and presentedForm).
import { readFileSync } from 'node:fs';
import { formIssues, plainSummary, xhtmlIssues } from '../fhir-server/nenfhir-checks.mjs';

const args = process.argv.slice(2);
const reports = readFileSync(args.shift(), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.identifier !== undefined);
// Two more modes (issue 11: cases), each exiting at once:
//   check_reports.mjs REPORTS.jsonl --case ACCESSION STATUS[,STATUS] LINE...
//     the one report whose identifier is ACCESSION has one of those statuses
//     (DiagnosticReport.status; "-" for any) and its machine summary holds
//     every LINE: "key=value" a line equal to it, "~REGEX" some line
//     matching REGEX, "!REGEX" no line matching REGEX. Exit 1 with what the
//     report says when not (or when there is no report, or two).
//   check_reports.mjs REPORTS.jsonl --one ACCESSION...
//     exactly one report per ACCESSION, and no report with another identifier.
function reportSummaryLines(r) {
  const s = plainSummary({ presentedForm: r.presentedForm ?? [] });
  return s === null || s === undefined ? null : s.split('\n');
}
function caseProblems(accession, statuses, wanted) {
  const mine = reports.filter((x) => x.identifier === accession);
  if (mine.length === 0) {
    const there = reports.map((x) => `${x.identifier} (${x.status})`).join(', ') || 'none';
    return [`no report for ${accession}; reports there: ${there}`];
  }
  if (mine.length > 1) return [`${mine.length} reports for ${accession} (duplicate)`];
  const r = mine[0];
  const out = [];
  if (statuses !== '-' && !statuses.split(',').includes(r.status)) {
    out.push(`status is ${r.status}, expected ${statuses}`);
  }
  const lines = reportSummaryLines(r);
  if (!lines) return out.concat(['no text/plain presentedForm with a machine summary']);
  for (const w of wanted) {
    if (w.startsWith('~')) {
      if (!lines.some((l) => new RegExp(w.slice(1)).test(l))) out.push(`no summary line matches ${w.slice(1)}`);
    } else if (w.startsWith('!')) {
      const bad = lines.filter((l) => new RegExp(w.slice(1)).test(l));
      if (bad.length) out.push(`summary lines match ${w.slice(1)} (they should not): ${bad.join(' | ')}`);
    } else if (!lines.includes(w)) {
      const key = w.split('=')[0];
      const got = lines.filter((l) => l.startsWith(`${key}=`));
      out.push(`no summary line ${w} (${got.length ? got.join(' | ') : `no ${key}= line`})`);
    }
  }
  if (out.length) out.push(`report ${accession} (${r.status}, version ${r.versionId}) says:\n${lines.join('\n')}`);
  return out;
}
if (args[0] === '--case') {
  const [, accession, statuses, ...wanted] = args;
  const problems = caseProblems(accession, statuses, wanted);
  for (const p of problems) console.error(p);
  process.exit(problems.length ? 1 : 0);
}
if (args[0] === '--one') {
  const want = args.slice(1);
  const problems = [];
  for (const a of want) {
    const n = reports.filter((x) => x.identifier === a).length;
    if (n !== 1) problems.push(`${a}: ${n} reports, expected exactly one`);
  }
  for (const x of reports) {
    if (!want.includes(x.identifier)) problems.push(`unexpected report ${x.identifier} (${x.status})`);
  }
  for (const p of problems) console.error(p);
  console.log(`check_reports: ${reports.length} reports for ${want.length} cases, ${problems.length} problem(s)`);
  process.exit(problems.length ? 1 : 0);
}
let copies = 0;
if (args[0] === '--copies') {
  args.shift();
  copies = Number(args.shift());
}
// A summary with resource names in warnings replaced and warnings sorted.
// An Observation whose code is no question of the tables is not kept by the
// daemon (issue 11 item 3: it queues nothing), so the offline warning about
// it is not compared.
function comparable(summary) {
  const lines = summary.split('\n').map((l) => (l.startsWith('warning=')
    ? l.replace(/urn:uuid:[0-9a-fA-F-]+|\b(Observation|Condition|Specimen|Patient)\/[A-Za-z0-9-]+/g, 'RESOURCE')
    : l)).filter((l) => !/^warning=input-code-unknown: RESOURCE\.code: .* is no question in the code tables/.test(l));
  const warnings = lines.filter((l) => l.startsWith('warning=')).sort();
  return lines.filter((l) => !l.startsWith('warning=')).concat(warnings).join('\n');
}
// What is wrong with the readable parts of one report row.
function readableIssues(r) {
  const report = { text: { div: r.narrative }, presentedForm: r.presentedForm ?? [] };
  const out = xhtmlIssues(r.narrative).concat(formIssues(report)).map((i) => `${i.path}: ${i.message}`);
  const c = r.conclusion ?? '';
  if (!c.endsWith('.') || c.includes('\n') || /(^|\n)[a-z]+=/.test(c)) out.push(`conclusion is not one sentence: ${c}`);
  return out;
}
let failed = 0;
const byId = new Map();
for (const r of reports) byId.set(r.identifier, (byId.get(r.identifier) || 0) + 1);
for (const [id, n] of byId) {
  if (n > 1) {
    console.error(`identifier ${id}: ${n} reports (duplicate)`);
    failed++;
  }
}
for (const file of args) {
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  const spec = bundle.entry.map((e) => e.resource).find((r) => r.resourceType === 'Specimen');
  const accession = spec.accessionIdentifier.value;
  const expected = readFileSync(file.replace(/\.json$/, '.expected'), 'utf8').trim();
  const want = copies ? Array.from({ length: copies }, (_, k) => `${accession}-${String(k + 1).padStart(4, '0')}`) : [accession];
  for (const id of want) {
    const r = reports.find((x) => x.identifier === id);
    if (!r) {
      console.error(`${file}: no report for ${id}`);
      failed++;
      continue;
    }
    const got = plainSummary({ presentedForm: r.presentedForm ?? [] }) ?? '(no text/plain presentedForm with a machine summary)';
    if (comparable(got) !== comparable(expected)) {
      console.error(`${file}: report ${id} (${r.status}) says:\n${got}\nexpected:\n${expected}`);
      failed++;
    }
    for (const problem of readableIssues(r)) {
      console.error(`${file}: report ${id}: ${problem}`);
      failed++;
    }
  }
}
console.log(`check_reports: ${reports.length} reports, ${failed} problem(s)`);
process.exit(failed ? 1 : 0);
