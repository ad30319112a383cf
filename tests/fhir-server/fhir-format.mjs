// FHIR wire formats for the test server: JSON and XML bodies in, JSON or XML out.
//
// XML goes through the `fhir` package (xmlToJson keeps decimals as written;
// objToXml writes them back). A document type declaration is refused outright,
// so no DTD is ever read and no entity expanded. Note that the `fhir` package
// silently drops XML elements it does not know; JSON is checked strictly by the
// validator instead.

import fhirPkg from 'fhir';

const fhir = new fhirPkg.Fhir();

const JSON_TYPE = 'application/fhir+json';
const XML_TYPE = 'application/fhir+xml';

export class FormatError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// 'json' | 'xml' | undefined for a MIME type or a _format value.
export function formatOf(type) {
  const t = String(type ?? '').split(';')[0].trim().toLowerCase();
  if (['json', 'application/json', 'application/fhir+json', 'application/json+fhir'].includes(t)) return 'json';
  if (['xml', 'text/xml', 'application/xml', 'application/fhir+xml', 'application/xml+fhir'].includes(t)) return 'xml';
  return undefined;
}

// The object in a request body (undefined when empty). Throws FormatError.
export function parseBody(buffer, contentType) {
  const text = buffer.toString('utf8');
  if (text.trim() === '') return undefined;
  const format = formatOf(contentType) ?? (text.trimStart().startsWith('<') ? 'xml' : 'json');
  try {
    return format === 'xml' ? xmlToObject(text) : JSON.parse(text);
  } catch (err) {
    throw new FormatError(400, `Cannot parse ${format.toUpperCase()} body: ${err.message.split('\n')[0]}`);
  }
}

function xmlToObject(text) {
  if (/<!DOCTYPE/i.test(text)) throw new Error('document type declarations are not allowed');
  const json = fhir.xmlToJson(text);
  if (!json) throw new Error('no FHIR resource found');
  return JSON.parse(json);
}

// Response format: _format wins, then Accept, then the request's own format, then JSON.
export function responseFormat(formatParam, accept, requestContentType) {
  const fromParam = formatOf(formatParam);
  if (fromParam) return fromParam;
  for (const part of String(accept ?? '').split(',')) {
    const f = formatOf(part);
    if (f) return f;
  }
  return formatOf(requestContentType) ?? 'json';
}

// { body, contentType } for a resource in the given format.
export function serialize(resource, format) {
  if (format === 'xml') return { body: fhir.objToXml(resource), contentType: `${XML_TYPE}; charset=UTF-8` };
  return { body: JSON.stringify(resource), contentType: `${JSON_TYPE}; charset=UTF-8` };
}
