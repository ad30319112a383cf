#!/usr/bin/env node
// Validate FHIR R4 JSON resources with Medplum's validator.
//
//   node validate.mjs [--warnings] [--codes DIR] FILE...
//
// Each FILE holds one JSON FHIR resource (often a transaction Bundle). The
// resource itself and, for a Bundle, every entry.resource are validated
// separately so that problems name the entry they belong to.
//
// The checks (Medplum's validateResource plus required code bindings) live in
// fhir-validation.mjs, shared with the test server. A resource nenfhir wrote
// (its meta.tag) is also checked by nenfhir-checks.mjs: every SNOMED CT, LOINC
// or ICD-O-3 coding is on a `result` line of the code tables (--codes DIR,
// default mappings/codes) naming its source, and a DiagnosticReport's
// narrative is FHIR xhtml and its presentedForm text/html + text/plain.
//
// Output: one line per problem
//   FILE: entry[i] ResourceType/id: <path>: <message>
// (no "entry[i] " prefix for the file's top-level resource), then
//   validate: N resources, M invalid
// Exit: 0 all valid, 1 any invalid, 2 unreadable file / not JSON / usage.

import { readFileSync } from 'node:fs';
import { isError, loadR4Definitions, validateOne } from './fhir-validation.mjs';
import {
  codeIssues, DEFAULT_CODES_DIR, formIssues, isNenfhirResource, loadCodeTables, xhtmlIssues,
} from './nenfhir-checks.mjs';

const args = process.argv.slice(2);
let showWarnings = false;
let codesDir = DEFAULT_CODES_DIR;
const files = [];
const USAGE = 'usage: node validate.mjs [--warnings] [--codes DIR] FILE...';
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--warnings' || a === '-w') showWarnings = true;
  else if (a === '--codes' && i + 1 < args.length) codesDir = args[++i];
  else if (a === '-h' || a === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else files.push(a);
}
if (files.length === 0) {
  console.error(USAGE);
  process.exit(2);
}

loadR4Definitions();
const tables = loadCodeTables(codesDir);

// Medplum's issues, then nenfhir's own checks for a resource it wrote.
function issuesOf(resource) {
  const issues = validateOne(resource);
  if (!isNenfhirResource(resource)) return issues;
  const own = codeIssues(resource, tables);
  if (resource.resourceType === 'DiagnosticReport') {
    own.push(...xhtmlIssues(resource.text?.div, 'DiagnosticReport.text.div'), ...formIssues(resource));
  }
  return issues.concat(own.map((i) => ({ severity: 'error', code: 'invalid', details: { text: i.message }, expression: [i.path] })));
}

function label(resource, fullUrl) {
  const rt = typeof resource?.resourceType === 'string' ? resource.resourceType : '(no resourceType)';
  if (resource?.id) return `${rt}/${resource.id}`;
  if (fullUrl) return `${rt} ${fullUrl}`;
  return rt;
}

let total = 0;
let invalid = 0;
let unreadable = false;

function report(file, prefix, issues, filter) {
  let errors = 0;
  for (const iss of issues) {
    const expr = (iss.expression ?? []).join(', ') || '(resource)';
    if (filter && !filter(expr)) continue;
    const msg = iss.details?.text ?? iss.diagnostics ?? iss.code ?? 'invalid';
    if (isError(iss)) {
      errors++;
      console.log(`${file}: ${prefix}: ${expr}: ${msg}`);
    } else if (showWarnings) {
      console.log(`${file}: ${prefix}: ${expr}: ${iss.severity}: ${msg}`);
    }
  }
  return errors;
}

for (const file of files) {
  let resource;
  try {
    resource = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    console.log(`${file}: error: ${err.code === undefined ? 'not JSON: ' : ''}${err.message}`);
    unreadable = true;
    continue;
  }

  total++;
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource) || typeof resource.resourceType !== 'string') {
    console.log(`${file}: ${label(resource)}: (resource): not a FHIR resource (no resourceType)`);
    invalid++;
    continue;
  }

  // The top-level resource. For a Bundle, problems inside entry[i].resource are
  // reported below against the entry itself, so drop them here.
  const isBundle = resource.resourceType === 'Bundle';
  const inEntry = /^Bundle\.entry\[\d+\]\.resource(\.|\[|$)/;
  const topErrors = report(file, label(resource), issuesOf(resource),
    isBundle ? (expr) => !inEntry.test(expr) : undefined);
  if (topErrors) invalid++;

  if (isBundle && Array.isArray(resource.entry)) {
    resource.entry.forEach((entry, i) => {
      const r = entry?.resource;
      if (r === undefined) return;
      total++;
      const errs = report(file, `entry[${i}] ${label(r, entry.fullUrl)}`, issuesOf(r));
      if (errs) invalid++;
    });
  }
}

console.log(`validate: ${total} resources, ${invalid} invalid`);
process.exit(unreadable ? 2 : invalid ? 1 : 0);
