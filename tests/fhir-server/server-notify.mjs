// Subscriptions: which rest-hook Subscription a committed change concerns, and
// what happens when a Subscription itself is written.
//
// For every change (create / update / delete of any resource, each entry of a
// transaction included) and every Subscription with status active or requested
// and channel.type rest-hook:
//   - R4 criteria (hapi / medplum style): Subscription.criteria is a search for
//     one resource type, matched with @medplum/core matchesSearchRequest (a
//     delete is matched against the deleted resource's last version);
//   - backport: Subscription.criteria is the topic below, which fires for
//     Observation and Condition; backport-filter-criteria extensions ("Type?...")
//     narrow it: a resource passes if some filter for its type matches, or if
//     there is no filter for its type.
// Each match is one event, numbered per subscription (events-since-subscription-
// start counts every event, dropped or failed ones too). A delete is an event
// for hapi and medplum styles only when the Subscription asks (wantsAction).
// resetEvents() sets every counter back to 0, as a server restart does.
//
// A Subscription written with status requested is activated: R4 criteria ones
// at once (as HAPI), backport ones after a handshake answered 2xx (else status
// error with Subscription.error). Backport subscriptions with a heartbeat period
// get a heartbeat when nothing was sent to them for that long.

import { matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import {
  backportRequest,
  filterCriteria,
  hapiRequest,
  heartbeatSeconds,
  isBackport,
  medplumRequest,
  styleOf,
  wantsAction,
} from './server-styles.mjs';

const TOPIC = 'https://nenfhir.org/fhir/SubscriptionTopic/pathology-result';
const TOPIC_TYPES = new Set(['Observation', 'Condition']);

// Criteria parsed once, not for every resource written (a criteria can list
// hundreds of codes: parsing it per resource made the test server, not the
// subscriber, the bottleneck of the benchmark). Bounded: cleared past 256.
const parsed = new Map();
function parsedSearch(search) {
  let p = parsed.get(search);
  if (p === undefined) {
    try {
      p = parseSearchRequest(search);
    } catch {
      p = null; // an unparsable criteria matches nothing
    }
    if (parsed.size >= 256) parsed.clear();
    parsed.set(search, p);
  }
  return p;
}

function matchesSearch(resource, search) {
  const p = parsedSearch(search);
  if (!p) return false;
  try {
    return matchesSearchRequest(resource, p);
  } catch {
    return false;
  }
}

function matchesTopic(sub, resource) {
  if (sub.criteria !== TOPIC || !TOPIC_TYPES.has(resource.resourceType)) return false;
  const filters = filterCriteria(sub).filter((f) => parsedSearch(f)?.resourceType === resource.resourceType);
  return filters.length === 0 || filters.some((f) => matchesSearch(resource, f));
}

const isLive = (sub) => (sub.status === 'active' || sub.status === 'requested') && sub.channel?.type === 'rest-hook';

export class Notifier {
  // base: () => the server's FHIR base URL.
  constructor({ store, deliveries, controls, defaultStyle, base, log }) {
    Object.assign(this, { store, deliveries, controls, defaultStyle, base, log });
    this.perSubscription = new Map(); // id -> { events, lastSent (ms) }
    this.chain = Promise.resolve();
  }

  // Called in commit order with the changes of one write; they are handled, in
  // that order, once `sent` resolves (after the HTTP response).
  commit(changes, sent) {
    this.chain = this.chain
      .then(() => sent)
      .then(() => this.dispatch(changes))
      .catch((err) => this.log(`notify: ${err.stack}`));
  }

  resetEvents() {
    for (const state of this.perSubscription.values()) state.events = 0;
  }

  state(id) {
    if (this.controls.takeResetEvents()) this.resetEvents();
    if (!this.perSubscription.has(id)) this.perSubscription.set(id, { events: 0, lastSent: Date.now() });
    return this.perSubscription.get(id);
  }

  async dispatch(changes) {
    const subs = (await this.store.subscriptions()).filter(isLive);
    for (const change of changes) {
      const { resource, action } = change;
      if (resource.resourceType === 'Subscription' && action !== 'delete') this.subscriptionWritten(resource);
      for (const sub of subs) {
        const hit = isBackport(sub) ? matchesTopic(sub, resource) : matchesSearch(resource, sub.criteria);
        if (hit) this.notify(sub, change);
      }
    }
  }

  notify(sub, change) {
    const style = styleOf(sub, this.defaultStyle);
    if (!wantsAction(sub, style, change.action)) return;
    const state = this.state(sub.id);
    const event = ++state.events;
    state.lastSent = Date.now();
    const request =
      style === 'backport'
        ? backportRequest(sub, { type: 'event-notification', status: 'active', eventsSince: event, event, change, base: this.base() })
        : (style === 'medplum' ? medplumRequest : hapiRequest)(sub, change);
    const { resourceType, id } = change.resource;
    const note = { subscription: sub.id, style, event, type: `${resourceType}/${id}`, request };
    if (this.controls.takeDrop()) this.deliveries.recordDropped(note);
    else this.deliveries.send(note);
  }

  subscriptionWritten(sub) {
    if (sub.status !== 'requested' || sub.channel?.type !== 'rest-hook') return;
    if (!isBackport(sub)) {
      this.setStatus(sub.id, 'active');
      return;
    }
    if (sub.criteria !== TOPIC) {
      this.setStatus(sub.id, 'error', `unknown SubscriptionTopic ${sub.criteria}; this server knows ${TOPIC}`);
      return;
    }
    this.sendStatus(sub, 'handshake', 'requested').then((result) =>
      result.ok
        ? this.setStatus(sub.id, 'active')
        : this.setStatus(sub.id, 'error', `handshake failed: ${result.error ?? `HTTP ${result.status}`}`)
    );
  }

  sendStatus(sub, type, status) {
    const state = this.state(sub.id);
    state.lastSent = Date.now();
    const request = backportRequest(sub, { type, status, eventsSince: state.events, base: this.base() });
    return this.deliveries.send({ subscription: sub.id, style: 'backport', event: null, type, request });
  }

  // Moves a still-requested Subscription to status (and error text), as a normal write.
  setStatus(id, status, error) {
    this.store
      .exclusive(async (repo) => {
        const current = await repo.readResource('Subscription', id);
        if (current.status !== 'requested') return;
        const next = { ...current, status };
        delete next.error;
        if (error) next.error = error;
        await repo.updateResource(next);
      })
      .catch((err) => this.log(`Subscription/${id}: cannot set status ${status}: ${err.message}`));
  }

  startHeartbeats() {
    this.heartbeatTimer = setInterval(() => {
      this.heartbeats().catch((err) => this.log(`heartbeat: ${err.message}`));
    }, 1000);
    this.heartbeatTimer.unref();
  }

  stopHeartbeats() {
    clearInterval(this.heartbeatTimer);
  }

  async heartbeats() {
    for (const sub of await this.store.subscriptions()) {
      const period = heartbeatSeconds(sub);
      if (!isBackport(sub) || sub.status !== 'active' || sub.channel?.type !== 'rest-hook' || !(period > 0)) continue;
      if (Date.now() - this.state(sub.id).lastSent >= period * 1000) this.sendStatus(sub, 'heartbeat', 'active');
    }
  }
}
