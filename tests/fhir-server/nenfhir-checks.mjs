// nenfhir-checks.mjs - checks of what nenfhir writes beyond FHIR validity (issue 10 item 7),
// shared by validate.mjs (every report written for the examples) and the end-to-end
// check_reports.mjs (every report on the test server):
//   - codeIssues(resource, tables): every coding nenfhir writes in a standard terminology
//     (SNOMED CT, LOINC, ICD-O-3, or any system a `result` line uses) is one the code tables
//     list on a `result` line that names its published source ("[tag]" in the line's comment);
//   - xhtmlIssues(div): the narrative is well-formed XML, one <div> in the xhtml namespace,
//     only the elements and attributes FHIR R4 allows in a narrative (HTML 4.0 chapters 7-11
//     and 15, <a>, <img>, style), no DOCTYPE, processing instruction, entity beyond XML's five,
//     script or event attribute, and some text;
//   - formIssues(report): the presentedForm has text/html and text/plain, each with
//     contentType, base64 data and title; the plain form carries the machine summary;
//   - plainSummary(report): the summary lines of the text/plain presentedForm (the lines of
//     `nenfhir classify --summary`), or undefined.
// Each *Issues function returns [{path, message}].

import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const requireHere = createRequire(import.meta.url);
// sax (strict XML) is a dependency of the `fhir` package (its XML parser)
const sax = createRequire(requireHere.resolve('fhir'))('sax');

export const TAG_SYSTEM = 'https://nenfhir.org/fhir/CodeSystem/meta-tag';
export const TAG_CODE = 'nenfhir-generated';
export const DEFAULT_CODES_DIR = join(here, '..', '..', 'mappings', 'codes');
const STANDARD = new Set([
  'http://snomed.info/sct',
  'http://loinc.org',
  'http://terminology.hl7.org/CodeSystem/icd-o-3',
]);
const XHTML_NS = 'http://www.w3.org/1999/xhtml';

export const isNenfhirResource = (r) => Array.isArray(r?.meta?.tag)
  && r.meta.tag.some((t) => t?.system === TAG_SYSTEM && t?.code === TAG_CODE);

// ---------------------------------------------------------------------------------------
// code tables

// Where each directive has its SYSTEM|CODE field.
const CODING_FIELD = { input: 1, value: 1, condition: 1, body: 1, specimen: 1, method: 1, result: 3 };

// The code tables of dir (*.map): { result: Map('system|code' -> {where, sourced}), systems }.
export function loadCodeTables(dir = DEFAULT_CODES_DIR) {
  const aliases = new Map();
  const result = new Map();
  const systems = new Set(STANDARD);
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.map')).sort()) {
    readFileSync(join(dir, name), 'utf8').split('\n').forEach((raw, i) => {
      const hash = raw.search(/(^|[ \t])#/);
      const body = hash < 0 ? raw : raw.slice(0, hash);
      const comment = hash < 0 ? '' : raw.slice(hash);
      const f = body.trim().split(/[ \t]+/).filter(Boolean);
      if (f[0] === 'system' && f.length === 3) aliases.set(f[1], f[2]);
      const at = CODING_FIELD[f[0]];
      if (f[0] !== 'result' || at === undefined || !f[at]) return;
      const bar = f[at].indexOf('|');
      const sys = aliases.get(f[at].slice(0, bar)) ?? f[at].slice(0, bar);
      const code = f[at].slice(bar + 1);
      systems.add(sys);
      result.set(`${sys}|${code}`, { where: `${name}:${i + 1}`, sourced: /\[[^\]]+\]/.test(comment) });
    });
  }
  return { result, systems };
}

// Every Coding (an object with string system and code) in value, with its path.
function* codings(value, path) {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* codings(value[i], `${path}[${i}]`);
  } else if (value && typeof value === 'object') {
    if (typeof value.system === 'string' && typeof value.code === 'string') yield { coding: value, path };
    for (const [k, v] of Object.entries(value)) if (k !== 'meta') yield* codings(v, `${path}.${k}`);
  }
}

export function codeIssues(resource, tables) {
  const out = [];
  for (const { coding, path } of codings(resource, resource.resourceType)) {
    if (!tables.systems.has(coding.system)) continue;
    const key = `${coding.system}|${coding.code}`;
    const line = tables.result.get(key);
    if (!line) out.push({ path, message: `${key} is on no \`result\` line of the code tables (mappings/codes/*.map)` });
    else if (!line.sourced) out.push({ path, message: `${key} (${line.where}) names no published source` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// narrative xhtml

const ELEMENTS = new Set(['p', 'br', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'a', 'span', 'b', 'em',
  'i', 'strong', 'small', 'big', 'tt', 'dfn', 'q', 'var', 'abbr', 'acronym', 'cite', 'blockquote', 'hr',
  'address', 'bdo', 'kbd', 'sub', 'sup', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'pre', 'table', 'caption',
  'colgroup', 'col', 'thead', 'tr', 'tfoot', 'tbody', 'th', 'td', 'code', 'samp', 'img', 'map', 'area']);
const COMMON_ATTRS = ['title', 'style', 'class', 'id', 'lang', 'xml:lang', 'dir', 'accesskey', 'tabindex'];
const CELL = ['abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'align', 'char', 'charoff', 'valign'];
const ELEMENT_ATTRS = {
  a: ['href', 'name', 'hreflang', 'rel', 'rev', 'charset', 'type'],
  img: ['src', 'alt', 'longdesc', 'height', 'width', 'usemap', 'ismap'],
  table: ['summary', 'width', 'border', 'frame', 'rules', 'cellspacing', 'cellpadding'],
  th: CELL, td: CELL,
  tr: ['align', 'char', 'charoff', 'valign'], thead: ['align', 'char', 'charoff', 'valign'],
  tbody: ['align', 'char', 'charoff', 'valign'], tfoot: ['align', 'char', 'charoff', 'valign'],
  col: ['span', 'width', 'align', 'char', 'charoff', 'valign'],
  colgroup: ['span', 'width', 'align', 'char', 'charoff', 'valign'],
  ol: ['start', 'type'], ul: ['type'], li: ['type', 'value'], q: ['cite'], blockquote: ['cite'],
  bdo: ['dir'], map: ['name'], area: ['shape', 'coords', 'href', 'nohref', 'alt'],
};

export function xhtmlIssues(div, path = 'text.div') {
  const out = [];
  const add = (message) => out.push({ path, message });
  if (typeof div !== 'string' || div.trim() === '') {
    add('no narrative div');
    return out;
  }
  const parser = sax.parser(true, { xmlns: true, strictEntities: true });
  let depth = 0;
  let roots = 0;
  let text = '';
  parser.onerror = (e) => {
    add(`not well-formed XML: ${String(e.message).split('\n')[0]}`);
    parser.error = null;
    parser.resume();
  };
  parser.ondoctype = () => add('a DOCTYPE is not allowed in a narrative');
  parser.onprocessinginstruction = (pi) => add(`processing instruction <?${pi.name}?> not allowed`);
  parser.ontext = (t) => { if (depth > 0) text += t; };
  parser.onopentag = (node) => {
    if (depth === 0 && ++roots > 1) add('more than one root element');
    if (depth === 0 && node.local !== 'div') add(`the root is <${node.name}>, not <div>`);
    if (node.uri !== XHTML_NS) add(`<${node.name}> is not in the xhtml namespace`);
    if (!ELEMENTS.has(node.local)) add(`<${node.local}> is not allowed in a FHIR narrative`);
    const allowed = new Set([...COMMON_ATTRS, ...(ELEMENT_ATTRS[node.local] ?? [])]);
    for (const a of Object.values(node.attributes)) {
      if (a.prefix === 'xmlns' || a.name === 'xmlns') continue;
      if (/^on/i.test(a.local) || !allowed.has(a.name)) add(`attribute ${a.name} not allowed on <${node.local}>`);
      if (/^\s*javascript:/i.test(a.value)) add(`attribute ${a.name} holds a script`);
    }
    depth++;
  };
  parser.onclosetag = () => { depth--; };
  try {
    parser.write(div).close();
  } catch (e) {
    add(`not well-formed XML: ${String(e.message).split('\n')[0]}`);
  }
  if (!text.trim()) add('the narrative has no text');
  return out;
}

// ---------------------------------------------------------------------------------------
// presentedForm

const decode = (a) => Buffer.from(a?.data ?? '', 'base64').toString('utf8');
const formOf = (report, type) => (report?.presentedForm ?? []).find((a) => String(a?.contentType ?? '').startsWith(type));

export function formIssues(report) {
  const out = [];
  for (const type of ['text/html', 'text/plain']) {
    const a = formOf(report, type);
    const path = 'DiagnosticReport.presentedForm';
    if (!a) {
      out.push({ path, message: `no ${type} form` });
      continue;
    }
    if (!a.data || !a.title) out.push({ path, message: `the ${type} form lacks data or title` });
    else if (Buffer.from(a.data, 'base64').toString('base64') !== a.data) out.push({ path, message: `the ${type} data is not canonical base64` });
  }
  const html = formOf(report, 'text/html');
  if (html && report.text?.div && !decode(html).includes(report.text.div)) out.push({ path: 'DiagnosticReport.presentedForm', message: 'the text/html form does not hold the narrative' });
  if (formOf(report, 'text/plain') && plainSummary(report) === undefined) out.push({ path: 'DiagnosticReport.presentedForm', message: 'the text/plain form has no machine summary' });
  return out;
}

// The machine summary of the text/plain form: the lines after the "Machine summary" title and
// its underline, to the end.
export function plainSummary(report) {
  const a = formOf(report, 'text/plain');
  if (!a) return undefined;
  const lines = decode(a).split('\n');
  const at = lines.findIndex((l) => l.startsWith('Machine summary'));
  if (at < 0) return undefined;
  return lines.slice(at + 2).join('\n').trim();
}

export const plainText = (report) => {
  const a = formOf(report, 'text/plain');
  return a ? decode(a) : undefined;
};
