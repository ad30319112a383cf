// check_reports.mjs - end-to-end check of what nenfhir wrote: for each
// example case file given, every report whose identifier is the case's
// specimen accession (or a numbered copy of it, "-0001"...) must have a
// conclusion that begins with the case's .expected summary (the same lines
// `nenfhir explain --summary` gives offline), and no identifier may appear
// twice. Warnings may name the resources they are about: offline those are
// the Bundle's urn:uuid fullUrls, on the server its own ids, in the server's
// order; so resource names in warnings compare as one placeholder and the
// warning lines as a set. Usage: node check_reports.mjs REPORTS.jsonl
// [--copies N] CASE.json...
import { readFileSync } from 'node:fs';

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
    const got = (r.conclusion || '').split('\n\n')[0].trim();
    if (comparable(got) !== comparable(expected)) {
      console.error(`${file}: report ${id} (${r.status}) says:\n${got}\nexpected:\n${expected}`);
      failed++;
    }
  }
}
console.log(`check_reports: ${reports.length} reports, ${failed} problem(s)`);
process.exit(failed ? 1 : 0);
