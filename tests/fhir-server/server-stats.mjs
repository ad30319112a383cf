// Counters for benchmarks, behind GET /_test/stats and GET /_test/report-writes
// (POST /_test/reset-stats clears them):
//   - /fhir requests by kind ("GET read Patient", "GET search Observation",
//     "POST transaction", "PUT update Observation", ...), per client: a request
//     with an `X-Test-Client: NAME` header (the LIS sends `lis`, the benchmark's
//     plain client `bench-ceiling`) counts under byClient[NAME], any other
//     (the system under test, e.g. nenfhir) under `requests`;
//   - every stored version of a DiagnosticReport: when (server clock, epoch ms),
//     its status, subject and specimen, so a benchmark can match reports to the
//     cases it posted.

const HISTORY = '_history';

// The kind of a /fhir request: method, interaction, resource type.
export function requestKind(method, path, query, body) {
  const parts = path.split('/').filter(Boolean);
  const [type, id, op, vid] = parts;
  if (parts.length === 0) {
    if (method === 'POST' && body?.resourceType === 'Bundle') return `POST ${body.type ?? 'bundle'}`;
    if (method === 'GET' && query?.has?.('_getpages')) return 'GET page'; // --paging hapi
    return `${method} base`;
  }
  if (type === 'metadata') return `${method} metadata`;
  if (type === HISTORY) return `${method} history`;
  if (type.startsWith('$')) return `${method} operation ${type}`;
  const conditional = String(query) !== '';
  switch (method) {
    case 'GET':
      if (parts.length === 1) return `GET search ${type}`;
      if (id === HISTORY) return `GET history ${type}`;
      if (id === '_search') return `GET search ${type}`;
      if (op === HISTORY) return vid ? `GET vread ${type}` : `GET history ${type}`;
      if (op?.startsWith('$')) return `GET operation ${type}`;
      return `GET read ${type}`;
    case 'POST':
      if (id === '_search') return `POST search ${type}`;
      if (id?.startsWith('$') || op?.startsWith('$')) return `POST operation ${type}`;
      return `POST create ${type}`;
    case 'PUT':
      return id ? `PUT update ${type}` : conditional ? `PUT conditional-update ${type}` : `PUT ${type}`;
    case 'DELETE':
      return id ? `DELETE ${type}` : `DELETE conditional ${type}`;
    case 'PATCH':
      return `PATCH ${type}`;
    default:
      return `${method} ${type}`;
  }
}

export class Stats {
  constructor() {
    this.reset();
  }

  reset() {
    this.since = Date.now();
    this.requests = {};
    this.byClient = {};
    this.reports = new Map(); // DiagnosticReport id -> { id, subject, specimen, writes: [{ ms, status, versionId }] }
  }

  countRequest(client, kind) {
    const table = client ? (this.byClient[client] ??= {}) : this.requests;
    table[kind] = (table[kind] ?? 0) + 1;
  }

  // The changes of one committed write (fhir-store's onCommit).
  committed(changes) {
    const ms = Date.now();
    for (const { action, resource } of changes) {
      if (resource?.resourceType !== 'DiagnosticReport' || action === 'delete') continue;
      let r = this.reports.get(resource.id);
      if (!r) this.reports.set(resource.id, (r = { id: resource.id, writes: [] }));
      r.subject = resource.subject?.reference ?? null;
      r.specimen = (resource.specimen ?? []).map((s) => s.reference).filter(Boolean);
      r.writes.push({ ms, status: resource.status, versionId: resource.meta?.versionId });
    }
  }

  summary(deliveries) {
    let writes = 0;
    for (const r of this.reports.values()) writes += r.writes.length;
    return {
      since: this.since,
      requests: this.requests,
      byClient: this.byClient,
      deliveries: { ...deliveries.stats },
      reports: { count: this.reports.size, writes },
    };
  }
}
