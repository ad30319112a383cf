// The test server's FHIR engine: @medplum/fhir-router's FhirRouter over an
// in-memory repository. All FHIR REST semantics (read, vread, search, history,
// conditional create/update/delete, batch and transaction with urn:uuid
// references) are fhir-router's. This module only adds what a server around it
// needs:
//   - writes run one at a time, and each reports the changes it made
//     (create / update / delete with the stored resource), in commit order,
//     for subscriptions;
//   - transactions are all or nothing (MemoryRepository has no rollback);
//   - versionId counts 1, 2, 3 and lastUpdated is always the server's clock;
//     an update that changes nothing stores no new version (as HAPI and Medplum);
//   - search results get fullUrl and absolute self/next links (fhir-router
//     returns none), paging with _offset, or HAPI's stored searches
//     (fhir-paging.mjs);
//   - GET metadata returns a small CapabilityStatement;
//   - as HAPI's JPA server, on request: referential integrity on delete (409)
//     and server-assigned ids as a sequence from 1000.

import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { getAllDataTypes, getStatus, isResourceType } from '@medplum/core';
import { allOk, created, deepClone, deepEquals, formatSearchQuery, OperationOutcomeError, parseSearchRequest } from '@medplum/core';
import { HapiPaging } from './fhir-paging.mjs';
import { checkDeleteConflicts } from './fhir-references.mjs';

class ServerRepository extends MemoryRepository {
  changes = [];
  deleted = null; // Set of 'Type/id' deleted by the transaction running, else null

  // deleteIntegrity: refuse to delete a referenced resource (fhir-references.mjs);
  // ids: 'uuid' (Medplum's) | 'sequence' (HAPI's: 1000, 1001, ... over all types,
  // and a client may not create a purely numeric id).
  constructor({ deleteIntegrity = false, ids = 'uuid' } = {}) {
    super();
    this.deleteIntegrity = deleteIntegrity;
    this.sequence = ids === 'sequence' ? 1000 : null;
    this.issued = new Set(); // sequence ids handed out (a transaction asks before it creates)
  }

  generateId() {
    if (this.sequence === null) return super.generateId();
    const id = String(this.sequence++);
    this.issued.add(id);
    return id;
  }

  // Every write ends here: create, and (through MemoryRepository) update and patch.
  async createResource(resource) {
    const { resourceType, id } = resource;
    const current = id ? this.resources.get(resourceType)?.get(id) : undefined;
    if (!current && this.sequence !== null && /^[0-9]+$/.test(id ?? '') && !this.issued.has(id)) {
      // HAPI's default client id strategy ALPHANUMERIC (HAPI-0960)
      const diagnostics = `HAPI-0960: Can not create resource with ID[${id}], no resource with this ID exists and ` +
        'clients may only assign IDs which contain at least one non-numeric character';
      throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics }] });
    }
    if (current && deepEquals(current, { ...resource, meta: { ...resource.meta, ...pick(current.meta) } })) {
      return deepClone(current);
    }
    const versions = id ? (this.history.get(resourceType)?.get(id)?.length ?? 0) : 0;
    const meta = { ...resource.meta, versionId: String(versions + 1), lastUpdated: new Date().toISOString() };
    // resourceType, id and meta first, as servers write them
    const stored = await super.createResource(
      Object.assign({ resourceType, id: id ?? this.generateId(), meta }, resource, { meta })
    );
    this.changes.push({ action: current ? 'update' : 'create', resource: deepClone(stored), time: meta.lastUpdated });
    return stored;
  }

  // With deleteIntegrity a delete that leaves a reference to the resource
  // fails (409); in a transaction that is checked once every entry ran, so
  // the referring resource may be deleted by the same transaction.
  async deleteResource(resourceType, id) {
    const current = this.resources.get(resourceType)?.get(id);
    if (this.deleteIntegrity && current) {
      if (this.deleted) this.deleted.add(`${resourceType}/${id}`);
      else checkDeleteConflicts(this.resources, new Set([`${resourceType}/${id}`]));
    }
    await super.deleteResource(resourceType, id);
    this.changes.push({ action: 'delete', resource: deepClone(current), time: new Date().toISOString() });
  }

  // MemoryRepository.readHistory reverses its stored version list in place; undo that.
  async readHistory(resourceType, id) {
    const versions = this.history.get(resourceType)?.get(id);
    const order = versions?.slice();
    try {
      return await super.readHistory(resourceType, id);
    } finally {
      if (versions) versions.splice(0, versions.length, ...order);
    }
  }

  async withTransaction(callback) {
    const resources = new Map([...this.resources].map(([type, byId]) => [type, new Map(byId)]));
    const history = new Map(
      [...this.history].map(([type, byId]) => [type, new Map([...byId].map(([id, v]) => [id, v.slice()]))])
    );
    const mark = this.changes.length;
    const outermost = this.deleted === null;
    if (outermost) this.deleted = new Set();
    try {
      const result = await callback(undefined);
      if (outermost && this.deleted.size) checkDeleteConflicts(this.resources, this.deleted);
      return result;
    } catch (err) {
      replaceMap(this.resources, resources);
      replaceMap(this.history, history);
      this.changes.length = mark;
      throw err;
    } finally {
      if (outermost) this.deleted = null;
    }
  }

  takeChanges() {
    return this.changes.splice(0);
  }
}

const pick = (meta) => ({ versionId: meta?.versionId, lastUpdated: meta?.lastUpdated });

function replaceMap(target, source) {
  target.clear();
  for (const [k, v] of source) target.set(k, v);
}

const capabilities = async () => [
  allOk,
  {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'nenfhir test FHIR server (@medplum/fhir-router)' },
    fhirVersion: '4.0.1',
    format: ['json', 'xml'],
    rest: [{ mode: 'server', resource: capabilityResources(), interaction: [{ code: 'transaction' }, { code: 'batch' }] }],
  },
];

// rest.resource as Medplum's server announces it (packages/server/src/fhir/metadata.ts:
// conditionalCreate, conditionalUpdate, conditionalDelete single) for every R4 resource type, but
// updateCreate true: fhir-router creates on PUT Type/id with a client id, which Medplum's server
// refuses (issue 13 item 3: nenfhir's write_mode = auto reads these flags).
function capabilityResources() {
  const types = getAllDataTypes();
  return Object.keys(types)
    .filter((t) => isResourceType(t) && types[t].url?.startsWith('http://hl7.org/fhir/StructureDefinition/'))
    .sort()
    .map((type) => ({
      type,
      interaction: ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'create', 'search-type'].map((code) => ({ code })),
      versioning: 'versioned',
      updateCreate: true,
      conditionalCreate: true,
      conditionalUpdate: true,
      conditionalDelete: 'single',
    }));
}

export class FhirStore {
  // onCommit(changes, sent): see exclusive(). deleteIntegrity, ids: see
  // ServerRepository.
  // paging: undefined (fhir-router's searches, _offset next links) or
  // { expireMs, cacheMs } for HAPI's stored searches (fhir-paging.mjs).
  constructor({ onCommit, deleteIntegrity = false, ids = 'uuid', paging }) {
    this.onCommit = onCommit;
    this.repo = new ServerRepository({ deleteIntegrity, ids });
    this.router = new FhirRouter();
    this.router.add('GET', 'metadata', capabilities);
    this.tail = Promise.resolve();
    this.paging = paging && new HapiPaging({ ...paging, run: (path, query) => this.route('GET', path, query) });
  }

  route(method, path, query, body, headers) {
    const url = path + (String(query) ? `?${query}` : '');
    const req = { method, url, pathname: '', body, params: {}, query: {}, headers, config: { transactions: true } };
    return this.router.handleRequest(req, this.repo);
  }

  // Runs fn(repo) with no other write in between and resolves to its result.
  // The changes it made go to onCommit(changes, sent), in commit order; `sent`
  // resolves once the client has its answer.
  exclusive(fn, sent = Promise.resolve()) {
    const run = this.tail.then(async () => {
      try {
        return await fn(this.repo);
      } finally {
        const changes = this.repo.takeChanges();
        if (changes.length) this.onCommit(changes, sent);
      }
    });
    this.tail = run.catch(() => {});
    return run;
  }

  // One FHIR request; resolves to fhir-router's FhirResponse. path is relative
  // to the base ('' or 'Observation/1'), query a URLSearchParams.
  async handle({ method, path, query, body, headers, base, sent }) {
    if (method === 'GET' && this.paging?.handles(path, query)) return this.paging.handle({ path, query, headers, base });
    const url = path + (String(query) ? `?${query}` : '');
    const req = { method, url, pathname: '', body, params: {}, query: {}, headers, config: { transactions: true } };
    const run = () => this.router.handleRequest(req, this.repo);
    const response = method === 'GET' ? await run() : await this.exclusive(() => this.createdByUpdate(method, path, query, run), sent);
    const bundle = response[1];
    if (method === 'GET' && bundle?.resourceType === 'Bundle' && bundle.type === 'searchset' && req.params.resourceType) {
      addSearchLinks(bundle, req.params.resourceType, req.query, base);
    }
    return response;
  }

  // PUT Type/id that creates the resource answers 201 Created, as HAPI does
  // and FHIR's update interaction says (fhir-router answers 200); runs inside
  // exclusive(), so nothing is written between the look and the write.
  async createdByUpdate(method, path, query, run) {
    const m = method === 'PUT' && !String(query) && /^([A-Za-z]+)\/([A-Za-z0-9.-]{1,64})$/.exec(path);
    const existed = m ? await this.repo.readResource(m[1], m[2]).then(() => true, () => false) : true;
    const response = await run();
    if (!existed && getStatus(response[0]) === 200) return [created, ...response.slice(1)];
    return response;
  }

  async count(resourceType) {
    const bundle = await this.repo.search({ resourceType, count: 0, total: 'accurate' });
    return bundle.total ?? 0;
  }

  subscriptions() {
    return this.repo.searchResources({ resourceType: 'Subscription' });
  }
}

function addSearchLinks(bundle, resourceType, query, base) {
  const search = parseSearchRequest(resourceType, query);
  const typeUrl = `${base}/${resourceType}`;
  bundle.link = [{ relation: 'self', url: typeUrl + formatSearchQuery(search) }];
  const offset = search.offset ?? 0;
  if (search.count > 0 && offset + search.count < (bundle.total ?? 0)) {
    bundle.link.push({ relation: 'next', url: typeUrl + formatSearchQuery({ ...search, offset: offset + search.count }) });
  }
  for (const entry of bundle.entry ?? []) {
    entry.fullUrl = `${typeUrl}/${entry.resource.id}`;
    entry.search = { mode: 'match' };
  }
}
