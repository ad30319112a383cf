// Fault injection for end-to-end tests: the state behind the server's /_test/
// endpoints and the handler that serves them (JSON in, JSON out).
//
//   POST /_test/drop           {"count":N}            next N event notifications dropped
//   POST /_test/fail-writes    {"seconds":S,"status":503,"retryAfter":1}
//   POST /_test/reject-writes  {"count":N,"resourceType":"DiagnosticReport"}
//   POST /_test/down           {"seconds":S}          stop listening for S seconds
//   GET  /_test/deliveries                            every delivery attempt
//   GET  /_test/counts?type=T                         {"count":N} current resources of type T
//   POST /_test/reset                                 clear the controls (not the data)

export class Controls {
  constructor() {
    this.reset();
  }

  reset() {
    this.failUntil = 0;
    this.failStatus = 503;
    this.failRetryAfter = undefined;
    this.rejectCount = 0;
    this.rejectType = undefined;
    this.dropCount = 0;
  }

  // { status, retryAfter } while fail-writes is on, else null.
  writeFailure() {
    if (Date.now() >= this.failUntil) return null;
    return { status: this.failStatus, retryAfter: this.failRetryAfter };
  }

  // Of the resources a write contains ([{ resourceType, expression }]), the one
  // reject-writes refuses now (using up one of its count), else undefined.
  takeReject(located) {
    if (this.rejectCount <= 0) return undefined;
    const hit = located.find((l) => l.resourceType === this.rejectType);
    if (hit) this.rejectCount--;
    return hit;
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
      case 'POST fail-writes': {
        const seconds = count(body?.seconds, 'seconds');
        controls.failStatus = count(body?.status ?? 503, 'status', { min: 400 });
        controls.failRetryAfter = body?.retryAfter === undefined ? undefined : count(body.retryAfter, 'retryAfter');
        controls.failUntil = Date.now() + seconds * 1000;
        return { status: 200, body: { failWrites: { seconds, status: controls.failStatus, retryAfter: controls.failRetryAfter } } };
      }
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
