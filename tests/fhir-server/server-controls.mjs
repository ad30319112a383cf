// Fault injection for end-to-end tests: the state behind the server's /_test/
// endpoints and the handler that serves them (JSON in, JSON out).
//
//   POST /_test/drop           {"count":N}            next N event notifications dropped
//   POST /_test/fail-writes    {"seconds":S,"status":503,"retryAfter":1}
//                              (or {"count":N,...}: the next N matching writes fail,
//                              however long they take to come: for loaded machines;
//                              (retryAfter: seconds, or a string sent verbatim; or
//                              "retryAfterIn":N for an HTTP-date N seconds ahead;
//                              "resourceType":T only writes containing T fail)
//   POST /_test/fail-reads     {"seconds":S,"status":404,"path":"Observation"}
//                              (or {"count":N,...}: the next N GETs below path fail)
//   POST /_test/foreign-next   {"host":"localhost"}   search Bundle links name that host
//   POST /_test/expire-page    {"at":N}               with --paging hapi: the Nth page request
//                              (?_getpages=) from now finds its search expired (410)
//   GET  /_test/foreign                               /fhir requests that came for another host
//   POST /_test/reject-writes  {"count":N,"resourceType":"DiagnosticReport"}
//   POST /_test/down           {"seconds":S}          stop listening for S seconds
//   GET  /_test/deliveries                            every delivery attempt
//   GET  /_test/counts?type=T                         {"count":N} current resources of type T
//   POST /_test/reset-events                          every subscription's event counter
//                              back to 0, no handshake (a server restart, as the
//                              Backport IG allows)
//   POST /_test/reset                                 clear the controls (not the data)
//   GET  /_test/stats                                 /fhir requests by kind and client,
//                              delivery counters, DiagnosticReport writes (server-stats.mjs)
//   GET  /_test/report-writes                         every DiagnosticReport version stored:
//                              [{id, subject, specimen, writes: [{ms, status, versionId}]}]
//   POST /_test/reset-stats                           counters of stats and report-writes to 0

export class Controls {
  constructor() {
    this.reset();
  }

  reset() {
    this.failUntil = 0;
    this.failStatus = 503;
    this.failRetryAfter = undefined;
    this.failRetryAfterIn = undefined;
    this.failType = undefined;
    this.readFailUntil = 0;
    this.readFailStatus = 404;
    this.readFailPath = '';
    this.readFailCount = undefined;
    this.foreignNextHost = undefined;
    this.rejectCount = 0;
    this.rejectType = undefined;
    this.dropCount = 0;
    this.resetEventsPending = false;
    this.expirePageIn = 0;
  }

  // True for the page request expire-page names (counting each call).
  takeExpirePage() {
    if (this.expirePageIn <= 0) return false;
    return --this.expirePageIn === 0;
  }

  // { status, retryAfter } while fail-writes is on (and, with a resourceType,
  // the write contains one: located as for takeReject), else null. retryAfter
  // is the header's text (seconds, a verbatim string, or an HTTP-date).
  writeFailure(located = []) {
    if (Date.now() >= this.failUntil) return null;
    if (this.failType && !located.some((l) => l.resourceType === this.failType)) return null;
    if (this.failCount !== undefined && this.failCount-- <= 0) {
      this.failUntil = 0; // the count is used up
      return null;
    }
    const retryAfter = this.failRetryAfterIn !== undefined
      ? new Date(Date.now() + this.failRetryAfterIn * 1000).toUTCString()
      : this.failRetryAfter === undefined ? undefined : String(this.failRetryAfter);
    return { status: this.failStatus, retryAfter };
  }

  // The status fail-reads answers a GET of path (below /fhir/) with now, else null.
  readFailure(path) {
    if (Date.now() >= this.readFailUntil || !path.startsWith(this.readFailPath)) return null;
    if (this.readFailCount !== undefined && this.readFailCount-- <= 0) {
      this.readFailUntil = 0; // the count is used up
      return null;
    }
    return this.readFailStatus;
  }

  // Of the resources a write contains ([{ resourceType, expression }]), the one
  // reject-writes refuses now (using up one of its count), else undefined.
  takeReject(located) {
    if (this.rejectCount <= 0) return undefined;
    const hit = located.find((l) => l.resourceType === this.rejectType);
    if (hit) this.rejectCount--;
    return hit;
  }

  // True once after reset-events: the notifier then zeroes its counters.
  takeResetEvents() {
    const pending = this.resetEventsPending;
    this.resetEventsPending = false;
    return pending;
  }

  // True when the next event notification is to be dropped (using up one).
  takeDrop() {
    if (this.dropCount <= 0) return false;
    this.dropCount--;
    return true;
  }
}

class BadInput extends Error {}

function count(value, name, { min = 0 } = {}) {
  if (!Number.isInteger(value) || value < min) throw new BadInput(`"${name}" must be an integer >= ${min}`);
  return value;
}

// Serves one /_test/ request. ctx: { controls, store, deliveries, goDown(seconds) }.
// Resolves to { status, body, after? } where after() runs once the answer is sent.
export async function handleTestRequest({ method, name, query, body }, ctx) {
  const { controls } = ctx;
  const route = `${method} ${name}`;
  try {
    switch (route) {
      case 'POST drop':
        controls.dropCount = count(body?.count, 'count');
        return { status: 200, body: { drop: controls.dropCount } };
      case 'POST reset-events':
        controls.resetEventsPending = true;
        return { status: 200, body: { resetEvents: true } };
      case 'POST fail-writes': {
        const seconds = body?.count !== undefined && body?.seconds === undefined ? 0 : count(body?.seconds, 'seconds');
        controls.failStatus = count(body?.status ?? 503, 'status', { min: 400 });
        const ra = body?.retryAfter;
        controls.failRetryAfter = ra === undefined || typeof ra === 'string' ? ra : count(ra, 'retryAfter');
        controls.failRetryAfterIn = body?.retryAfterIn === undefined ? undefined : count(body.retryAfterIn, 'retryAfterIn');
        if (body?.resourceType !== undefined && typeof body.resourceType !== 'string') throw new BadInput('"resourceType" must be a string');
        controls.failType = body?.resourceType;
        controls.failCount = body?.count === undefined ? undefined : count(body.count, 'count', { min: 1 });
        controls.failUntil = controls.failCount !== undefined ? Infinity : Date.now() + seconds * 1000;
        const { failRetryAfter: retryAfter, failRetryAfterIn: retryAfterIn, failType: resourceType } = controls;
        return { status: 200, body: { failWrites: { seconds, status: controls.failStatus, retryAfter, retryAfterIn, resourceType } } };
      }
      case 'POST fail-reads': {
        const seconds = body?.count !== undefined && body?.seconds === undefined ? 0 : count(body?.seconds, 'seconds');
        controls.readFailStatus = count(body?.status ?? 404, 'status', { min: 400 });
        if (body?.path !== undefined && typeof body.path !== 'string') throw new BadInput('"path" must be a string');
        controls.readFailPath = body?.path ?? '';
        controls.readFailCount = body?.count === undefined ? undefined : count(body.count, 'count', { min: 1 });
        controls.readFailUntil = controls.readFailCount !== undefined ? Infinity : Date.now() + seconds * 1000;
        const failReads = { seconds, count: controls.readFailCount, status: controls.readFailStatus, path: controls.readFailPath };
        return { status: 200, body: { failReads } };
      }
      case 'POST foreign-next':
        if (body?.host !== undefined && (typeof body.host !== 'string' || !/^[A-Za-z0-9.-]+$/.test(body.host))) {
          throw new BadInput('"host" must be a host name');
        }
        controls.foreignNextHost = body?.host;
        return { status: 200, body: { foreignNext: controls.foreignNextHost ?? null } };
      case 'POST expire-page':
        controls.expirePageIn = count(body?.at, 'at', { min: 1 });
        return { status: 200, body: { expirePage: controls.expirePageIn } };
      case 'GET foreign':
        return { status: 200, body: ctx.foreign };
      case 'POST reject-writes':
        if (typeof body?.resourceType !== 'string') throw new BadInput('"resourceType" must be a string');
        controls.rejectCount = count(body.count, 'count');
        controls.rejectType = body.resourceType;
        return { status: 200, body: { rejectWrites: { count: controls.rejectCount, resourceType: controls.rejectType } } };
      case 'POST down': {
        const seconds = count(body?.seconds, 'seconds');
        return { status: 200, body: { down: seconds }, after: () => ctx.goDown(seconds) };
      }
      case 'GET deliveries':
        return { status: 200, body: ctx.deliveries.records };
      case 'GET counts': {
        const type = query.get('type');
        if (!type) throw new BadInput('query parameter "type" is required');
        return { status: 200, body: { count: await ctx.store.count(type) } };
      }
      case 'GET stats':
        return { status: 200, body: ctx.stats.summary(ctx.deliveries) };
      case 'GET report-writes':
        return { status: 200, body: [...ctx.stats.reports.values()] };
      case 'POST reset-stats':
        ctx.stats.reset();
        ctx.deliveries.resetStats();
        return { status: 200, body: { resetStats: true } };
      case 'POST reset':
        controls.reset();
        return { status: 200, body: { reset: true } };
      default:
        return { status: 404, body: { error: `unknown test control: ${route}` } };
    }
  } catch (err) {
    if (err instanceof BadInput) return { status: 400, body: { error: err.message } };
    throw err;
  }
}
