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
let copies = 0;
if (args[0] === '--copies') {
  args.shift();
  copies = Number(args.shift());
}
// A summary with resource names in warnings replaced and warnings sorted.
function comparable(summary) {
  const lines = summary.split('\n').map((l) => (l.startsWith('warning=')
    ? l.replace(/urn:uuid:[0-9a-fA-F-]+|\b(Observation|Condition|Specimen|Patient)\/[A-Za-z0-9-]+/g, 'RESOURCE')
    : l));
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
