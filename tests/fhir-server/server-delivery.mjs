// Outbound rest-hook deliveries. Each Subscription has one FIFO queue from which
// up to `concurrency` notifications are in flight at once (--delivery-concurrency,
// default 1: one at a time, strictly in order). With more than one, the
// notifications about one resource (same `type`, 'Type/id') still leave in
// order, each after the previous one's last attempt, and the queue is taken
// first come first served otherwise (as HAPI's delivery channel, which has
// several concurrent consumers per channel). A failed attempt (connection
// or TLS error, timeout, non-2xx answer) is retried, then given up:
//   - policy 'fixed': `retries` times, `retryDelayMs` apart;
//   - policy 'hapi' (HAPI FHIR's channel retry, Spring Retry with
//     RetryPolicyProvider's TimeoutRetryPolicy of 60 s and an exponential
//     back-off from 1 s, factor 1.1): after `backoff.firstMs`, then each delay
//     1.1 times the last, while less than `backoff.windowMs` have passed since
//     the first attempt (about 21 attempts in 60 s when each fails at once).
// `policyOf(note)` picks the policy per notification (server.mjs: 'hapi' for
// hapi-style notifications unless --delivery-retries/--delivery-retry-delay-ms
// ask for fixed ones). With `delayMs` (--delivery-delay-ms) a notification
// leaves no earlier than that long after it was queued (HAPI delivers 40 ms to
// 5 s after the commit). HTTPS trusts the server's --ca and presents
// the server's own certificate as client certificate. Every attempt, and every
// notification dropped by the test control, is kept in `records`.
//
// A notification: { subscription (id), style, event (number|null), type
// ('Type/id' or a status type such as 'handshake'), request: { method, url,
// headers, body (string|null) } }.

import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

const ATTEMPT_TIMEOUT_MS = 10_000;

// HAPI FHIR's delivery retry (see above): first delay, factor, window.
export const HAPI_BACKOFF = { firstMs: 1000, factor: 1.1, windowMs: 60_000 };

export class Deliveries {
  // retries, retryDelayMs: the fixed policy; backoff: { firstMs, factor,
  // windowMs } of the hapi policy (default HAPI_BACKOFF); policyOf(note) ->
  // 'fixed' | 'hapi' (default: always 'fixed'); delayMs: see above.
  constructor({ ca, cert, key, retries, retryDelayMs, backoff = HAPI_BACKOFF, policyOf = () => 'fixed', delayMs = 0,
    concurrency = 1, keepAlive = false, log }) {
    this.tls = { ca, cert, key };
    this.agents = keepAlive
      ? { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true, ...this.tls }) }
      : null;
    this.retries = retries;
    this.retryDelayMs = retryDelayMs;
    this.backoff = backoff;
    this.policyOf = policyOf;
    this.delayMs = delayMs;
    this.concurrency = Math.max(1, concurrency);
    this.log = log;
    this.records = [];
    this.queues = new Map(); // subscription id -> { waiting: [item], busy: Set of keys, active }
    this.resetStats();
  }

  // Counters for /_test/stats: notifications delivered (finished, whatever the
  // outcome), attempts, their total and largest time, most in flight at once,
  // queued (waiting or in flight now).
  resetStats() {
    this.stats = { notifications: 0, attempts: 0, attemptMs: 0, maxAttemptMs: 0, maxInFlight: 0, inFlight: 0, queued: 0 };
  }

  // Queues a notification; resolves to the last attempt's { ok, status, error }.
  send(note) {
    let q = this.queues.get(note.subscription);
    if (!q) this.queues.set(note.subscription, (q = { waiting: [], busy: new Set(), active: 0 }));
    this.stats.queued++;
    const due = Date.now() + this.delayMs;
    return new Promise((resolve) => {
      q.waiting.push({ note, resolve, due });
      this.pump(q);
    });
  }

  // Starts the first waiting notifications whose resource has none in flight
  // (nor an earlier one waiting), while fewer than `concurrency` are in flight.
  pump(q) {
    const blocked = new Set(q.busy);
    for (let i = 0; i < q.waiting.length && q.active < this.concurrency; ) {
      const { note, resolve, due } = q.waiting[i];
      if (blocked.has(note.type)) {
        i++;
        continue;
      }
      q.waiting.splice(i, 1);
      blocked.add(note.type);
      q.busy.add(note.type);
      q.active++;
      this.stats.inFlight++;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
      this.deliver(note, due).then((result) => {
        q.active--;
        this.stats.inFlight--;
        this.stats.notifications++;
        this.stats.queued = Math.max(0, this.stats.queued - 1);
        q.busy.delete(note.type);
        resolve(result);
        this.pump(q);
      });
    }
  }

  recordDropped(note) {
    this.records.push(record(note, { status: null, error: null }, new Date(), 0, true));
    this.log(`${describe(note)}: dropped (test control)`);
  }

  // The delays between attempts: for 'fixed', retries times retryDelayMs; for
  // 'hapi', firstMs * factor^k while the window allows (checked by deliver).
  nextDelay(policy, attempt) {
    if (policy === 'hapi') return this.backoff.firstMs * this.backoff.factor ** (attempt - 1);
    return attempt > this.retries ? null : this.retryDelayMs;
  }

  async deliver(note, due = 0) {
    if (due > Date.now()) await sleep(due - Date.now());
    const policy = this.policyOf(note);
    const first = Date.now();
    const inWindow = () => policy !== 'hapi' || Date.now() - first < this.backoff.windowMs;
    for (let attempt = 1; ; attempt++) {
      const started = new Date();
      const result = await this.attempt(note.request);
      const ms = Date.now() - started.getTime();
      this.stats.attempts++;
      this.stats.attemptMs += ms;
      this.stats.maxAttemptMs = Math.max(this.stats.maxAttemptMs, ms);
      this.records.push(record(note, result, started, attempt, false));
      const { method, url } = note.request;
      this.log(`${describe(note)} ${method} ${url} attempt ${attempt}: ${result.status ?? result.error}`);
      if (result.ok) return result;
      const delay = inWindow() ? this.nextDelay(policy, attempt) : null;
      if (delay !== null) await sleep(delay);
      if (delay === null || !inWindow()) {
        this.log(`${describe(note)}: given up after ${attempt} attempt(s) (${policy} retry policy)`);
        return result;
      }
    }
  }

  attempt({ method, url, headers, body }) {
    return new Promise((resolve) => {
      let req;
      try {
        const target = new URL(url);
        const client = target.protocol === 'http:' ? http : https;
        req = client.request(target, {
          method,
          headers: { ...headers, 'Content-Length': body ? Buffer.byteLength(body) : 0 },
          ...this.tls,
          agent: this.agents ? this.agents[target.protocol] : false,
          timeout: ATTEMPT_TIMEOUT_MS,
        });
      } catch (err) {
        resolve({ ok: false, status: null, error: err.message });
        return;
      }
      req.on('timeout', () => req.destroy(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS} ms`)));
      req.on('error', (err) => resolve({ ok: false, status: null, error: err.message }));
      req.on('response', (res) => {
        res.resume();
        res.on('error', (err) => resolve({ ok: false, status: res.statusCode, error: err.message }));
        res.on('end', () => {
          const ok = res.statusCode >= 200 && res.statusCode < 300;
          resolve({ ok, status: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}` });
        });
      });
      req.end(body ?? undefined);
    });
  }
}

const describe = (note) =>
  `deliver Subscription/${note.subscription} ${note.style}${note.event === null ? '' : ` event ${note.event}`} ${note.type}`;

function record(note, result, time, attempt, dropped) {
  return {
    time: time.toISOString(),
    subscription: note.subscription,
    style: note.style,
    method: note.request.method,
    url: note.request.url,
    event: note.event,
    type: note.type,
    attempt,
    status: result.status,
    error: result.error,
    dropped,
  };
}
