// Outbound rest-hook deliveries. Each Subscription has one FIFO queue, so its
// notifications leave one at a time and in order. A failed attempt (connection
// or TLS error, timeout, non-2xx answer) is retried `retries` times, `retryDelayMs`
// apart, then given up, as HAPI does. HTTPS trusts the server's --ca and presents
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

export class Deliveries {
  constructor({ ca, cert, key, retries, retryDelayMs, log }) {
    this.tls = { ca, cert, key };
    this.retries = retries;
    this.retryDelayMs = retryDelayMs;
    this.log = log;
    this.records = [];
    this.queues = new Map();
  }

  // Queues a notification; resolves, in queue order, to the last attempt's
  // { ok, status, error }.
  send(note) {
    const previous = this.queues.get(note.subscription) ?? Promise.resolve();
    const run = previous.then(() => this.deliver(note));
    this.queues.set(note.subscription, run);
    return run;
  }

  recordDropped(note) {
    this.records.push(record(note, { status: null, error: null }, new Date(), 0, true));
    this.log(`${describe(note)}: dropped (test control)`);
  }

  async deliver(note) {
    for (let attempt = 1; ; attempt++) {
      const started = new Date();
      const result = await this.attempt(note.request);
      this.records.push(record(note, result, started, attempt, false));
      const { method, url } = note.request;
      this.log(`${describe(note)} ${method} ${url} attempt ${attempt}: ${result.status ?? result.error}`);
      if (result.ok || attempt > this.retries) return result;
      await sleep(this.retryDelayMs);
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
          agent: false,
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
