// How a rest-hook notification looks on the wire, in the three styles the test
// server imitates. Each builder returns { method, url, headers, body }.
//
//   hapi     (R4 criteria) no channel.payload: bodiless POST {endpoint} (a form
//            Content-Type, as HAPI's client); with a payload: PUT
//            {endpoint}/{Type}/{id} carrying the resource with If-Match, DELETE
//            {endpoint}/{Type}/{id} on delete. Sends channel.header and HAPI's
//            User-Agent, Accept and Accept-Encoding (see hapiRequest).
//   medplum  (R4 criteria) POST {endpoint} with the resource JSON ({} on delete,
//            plus X-Medplum-Deleted-Resource), X-Signature = hex HMAC-SHA256 of the
//            body with the subscription-secret extension. Does NOT send
//            channel.header, so tests prove the signature alone suffices.
//   backport (Subscriptions Backport IG, R4) POST {endpoint} with a history
//            Bundle: a SubscriptionStatus Parameters, then the focus entries as
//            the payload content asks (empty | id-only | full-resource). Sends
//            channel.header.
// Deletes (hapi, medplum) only when the Subscription asks for them: wantsAction.
//
// A change is { action: create|update|delete, resource, time } from fhir-store.mjs.

import { createHmac, randomUUID } from 'node:crypto';
import { getExtensionValue } from '@medplum/core';
import { formatOf, serialize } from './fhir-format.mjs';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const BACKPORT_PROFILE = `${BACKPORT}/backport-subscription`;
const FILTER_EXT = `${BACKPORT}/backport-filter-criteria`;
const CONTENT_EXT = `${BACKPORT}/backport-payload-content`;
const HEARTBEAT_EXT = `${BACKPORT}/backport-heartbeat-period`;
const NOTIFICATION_PROFILE = `${BACKPORT}/backport-subscription-notification-r4`;
const STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;
const STYLE_EXT = 'https://nenfhir.org/test/StructureDefinition/notification-style';
const SECRET_EXT = 'https://www.medplum.com/fhir/StructureDefinition/subscription-secret';
// Deletes are notified only when the Subscription asks (as the real servers do):
// HAPI: channel extension valueBoolean true (HapiExtensions.EX_SEND_DELETE_MESSAGES);
// Medplum: Subscription.extension, one valueCode per interaction (none: create, update).
const HAPI_DELETE_EXT = 'http://hapifhir.io/fhir/StructureDefinition/subscription-send-delete-messages';
const MEDPLUM_INTERACTION_EXT = 'https://medplum.com/fhir/StructureDefinition/subscription-supported-interaction';

export const isBackport = (sub) => (sub.meta?.profile ?? []).includes(BACKPORT_PROFILE);

// 'hapi' | 'medplum' | 'backport'
export function styleOf(sub, defaultStyle) {
  if (isBackport(sub)) return 'backport';
  const chosen = getExtensionValue(sub, STYLE_EXT);
  return chosen === 'hapi' || chosen === 'medplum' ? chosen : defaultStyle;
}

// Whether a Subscription of this style is notified of this action (create|update|delete).
export function wantsAction(sub, style, action) {
  if (style === 'hapi') {
    return action !== 'delete' || (sub.channel?.extension ?? []).some((e) => e.url === HAPI_DELETE_EXT && e.valueBoolean === true);
  }
  if (style === 'medplum') {
    const asked = (sub.extension ?? []).filter((e) => e.url === MEDPLUM_INTERACTION_EXT).map((e) => e.valueCode);
    return asked.length ? asked.includes(action) : action !== 'delete';
  }
  return true;
}

export const filterCriteria = (sub) =>
  (sub._criteria?.extension ?? []).filter((e) => e.url === FILTER_EXT && e.valueString).map((e) => e.valueString);

export const heartbeatSeconds = (sub) => getExtensionValue(sub.channel, HEARTBEAT_EXT) ?? 0;

const payloadContent = (sub) => getExtensionValue(sub.channel?._payload, CONTENT_EXT) ?? 'id-only';

// channel.header entries ("Name: value") as a headers object.
function channelHeaders(sub) {
  const headers = {};
  for (const line of sub.channel?.header ?? []) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

const endpointPlus = (endpoint, path) => `${endpoint.replace(/\/+$/, '')}/${path}`;

// The headers HAPI FHIR 8.8.0's rest-hook client (its generic FHIR client over
// Apache HttpClient) sends, as recorded by a receiver (tests/hapi-server/README.md,
// "HAPI's behaviour versus the Node test server's imitation", items 1-3).
export const HAPI_USER_AGENT = 'HAPI-FHIR/8.8.0 (FHIR Client; FHIR 4.0.1/R4; apache)';
const HAPI_ACCEPT = {
  json: 'application/fhir+json;q=1.0, application/json+fhir;q=0.9',
  xml: 'application/fhir+xml;q=1.0, application/xml+fhir;q=0.9',
  any: 'application/fhir+xml;q=1.0, application/fhir+json;q=1.0, application/xml+fhir;q=0.9, application/json+fhir;q=0.9',
};
const HAPI_FORM_TYPE = 'application/x-www-form-urlencoded; charset=UTF-8';

// HAPI style. No payload: a bodiless POST {endpoint} for every notified change,
// deletes included (HAPI's client posts an empty form: a form Content-Type with
// Content-Length 0, and a stray If-None-Exist naming the endpoint). With a
// payload: PUT {endpoint}/{Type}/{id} with the stored resource and
// If-Match: W/"<versionId>", or DELETE {endpoint}/{Type}/{id}. channel.header
// lines come first; HAPI's own headers (User-Agent, Accept, Accept-Encoding)
// are added as HAPI sends them.
export function hapiRequest(sub, { action, resource }) {
  const { endpoint, payload } = sub.channel;
  const base = { ...channelHeaders(sub), 'User-Agent': HAPI_USER_AGENT, 'Accept-Encoding': 'gzip' };
  if (!payload) {
    const headers = {
      ...base,
      Accept: HAPI_ACCEPT.any,
      'Content-Type': HAPI_FORM_TYPE,
      'If-None-Exist': `${endpoint}, ${endpoint}?`,
    };
    return { method: 'POST', url: endpoint, headers, body: null };
  }
  const format = formatOf(payload) ?? 'json';
  const url = endpointPlus(endpoint, `${resource.resourceType}/${resource.id}`);
  if (action === 'delete') return { method: 'DELETE', url, headers: { ...base, Accept: HAPI_ACCEPT[format] }, body: null };
  const { body, contentType } = serialize(resource, format);
  const headers = { ...base, Accept: HAPI_ACCEPT[format], 'Content-Type': contentType };
  if (resource.meta?.versionId) headers['If-Match'] = `W/"${resource.meta.versionId}"`;
  return { method: 'PUT', url, headers, body };
}

export function medplumRequest(sub, { action, resource }) {
  const body = action === 'delete' ? '{}' : JSON.stringify(resource);
  const headers = {
    'Content-Type': 'application/fhir+json',
    'X-Medplum-Subscription': sub.id,
    'X-Medplum-Interaction': action,
  };
  if (action === 'delete') headers['X-Medplum-Deleted-Resource'] = `${resource.resourceType}/${resource.id}`;
  const secret = getExtensionValue(sub, SECRET_EXT);
  if (typeof secret === 'string' && secret) headers['X-Signature'] = createHmac('sha256', secret).update(body).digest('hex');
  return { method: 'POST', url: sub.channel.endpoint, headers, body };
}

// A backport notification. type: handshake | heartbeat | event-notification;
// status: the subscription's status to report; eventsSince: the subscription's
// event count; event and change only for event-notification.
export function backportRequest(sub, { type, status, eventsSince, event, change, base }) {
  const subscriptionUrl = `${base}/Subscription/${sub.id}`;
  const parameter = [
    { name: 'subscription', valueReference: { reference: subscriptionUrl } },
    { name: 'topic', valueCanonical: sub.criteria },
    { name: 'status', valueCode: status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(eventsSince) },
  ];
  const focusEntries = [];
  if (change) {
    const content = payloadContent(sub);
    const { resourceType, id } = change.resource;
    const focusUrl = `${base}/${resourceType}/${id}`;
    const part = [
      { name: 'event-number', valueString: String(event) },
      { name: 'timestamp', valueInstant: change.time },
    ];
    if (content !== 'empty') {
      part.push({ name: 'focus', valueReference: { reference: focusUrl } });
      focusEntries.push(focusEntry(change, focusUrl, content === 'full-resource'));
    }
    parameter.push({ name: 'notification-event', part });
  }
  const statusId = randomUUID();
  const bundle = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [NOTIFICATION_PROFILE] },
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${statusId}`,
        resource: { resourceType: 'Parameters', id: statusId, meta: { profile: [STATUS_PROFILE] }, parameter },
        request: { method: 'GET', url: `${subscriptionUrl}/$status` },
        response: { status: '200' },
      },
      ...focusEntries,
    ],
  };
  const { body, contentType } = serialize(bundle, formatOf(sub.channel.payload) ?? 'json');
  return { method: 'POST', url: sub.channel.endpoint, headers: { ...channelHeaders(sub), 'Content-Type': contentType }, body };
}

// A history entry for the changed resource (a history Bundle needs request and response).
function focusEntry({ action, resource }, fullUrl, withResource) {
  const ref = `${resource.resourceType}/${resource.id}`;
  const [request, status] = {
    create: [{ method: 'POST', url: resource.resourceType }, '201'],
    update: [{ method: 'PUT', url: ref }, '200'],
    delete: [{ method: 'DELETE', url: ref }, '204'],
  }[action];
  return { fullUrl, ...(withResource && action !== 'delete' ? { resource } : {}), request, response: { status } };
}
