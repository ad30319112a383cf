// HAPI FHIR JPA's paging and search cache, for the test server's `--paging hapi`
// (the default, `medplum`, pages statelessly with `_offset` on the type URL).
//
// As HAPI: a search is run once and its matches (in the search's order) are
// stored under a search id; the answer is the first page, and `next` is on the
// server's base:
//   {base}?_getpages=<id>&_getpagesoffset=N&_count=N&_bundletype=searchset
// A page shows the stored matches at that offset in their current version
// (deleted ones left out), with the search's _include/_revinclude; nothing
// created since the search is in it. A stored search unused for `expireMs`
// (HAPI: JpaStorageSettings.setExpireSearchResultsAfterMillis, one hour) is
// gone: its pages answer 410 Gone, OperationOutcome
//   HAPI-0417: Search ID "<id>" does not exist and may have expired
// An identical search (same type and query) made within `cacheMs` of the
// stored one (HAPI: setReuseCachedSearchResultsForMillis, 60 s) is answered
// from it, so resources written in between are not seen, unless the request
// says Cache-Control: no-cache (as HAPI honours).

import { randomUUID } from 'node:crypto';
import { allOk } from '@medplum/core';

const DEFAULT_COUNT = 20; // HAPI's default page size
const SNAPSHOT_MAX = 100_000;
const INCLUDES = ['_include', '_revinclude', '_include:iterate', '_revinclude:iterate'];

const gone = (id) => ({
  resourceType: 'OperationOutcome',
  id: 'gone',
  issue: [{ severity: 'error', code: 'processing', diagnostics: `HAPI-0417: Search ID "${id}" does not exist and may have expired` }],
});

export class HapiPaging {
  // run(path, query) resolves to fhir-router's [outcome, resource] for a GET.
  constructor({ expireMs, cacheMs, run }) {
    Object.assign(this, { expireMs, cacheMs, run });
    this.searches = new Map(); // id -> { id, resourceType, query, refs, lastUsed, created, key }
    this.byKey = new Map(); // cache key -> id
  }

  // Whether this GET is one HapiPaging answers: a type-level search, or a
  // page on the base. query: URLSearchParams without _format/_pretty.
  handles(path, query) {
    if (path === '') return query.has('_getpages');
    if (!/^[A-Z][A-Za-z]+$/.test(path)) return false;
    return !query.has('_summary') && query.get('_count') !== '0';
  }

  // Answers a search or a page: [outcome, Bundle] or a 410 [OperationOutcome].
  async handle({ path, query, headers, base }) {
    this.expire();
    if (path === '') {
      const id = query.get('_getpages');
      const search = this.searches.get(id);
      if (!search) return [gone(id)];
      search.lastUsed = Date.now();
      const offset = Math.max(0, Number.parseInt(query.get('_getpagesoffset') ?? '0', 10) || 0);
      const count = Math.max(1, Number.parseInt(query.get('_count') ?? '', 10) || search.count);
      return this.page(search, offset, count, base);
    }
    const key = `${path}?${[...query].map(([k, v]) => `${k}=${v}`).sort().join('&')}`;
    const noCache = /\bno-cache\b/i.test(String(headers?.['cache-control'] ?? ''));
    const cached = this.searches.get(this.byKey.get(key));
    if (cached && !noCache && Date.now() - cached.created < this.cacheMs) {
      cached.lastUsed = Date.now();
      return this.page(cached, 0, cached.count, base);
    }
    const search = await this.store(path, query, key);
    if (!search.id) return search.answer; // the search itself failed
    return this.page(search, 0, search.count, base);
  }

  async store(resourceType, query, key) {
    const all = new URLSearchParams();
    for (const [k, v] of query) if (!INCLUDES.includes(k) && k !== '_count' && k !== '_offset') all.append(k, v);
    all.set('_count', String(SNAPSHOT_MAX));
    const answer = await this.run(resourceType, all);
    const bundle = answer[1];
    if (bundle?.resourceType !== 'Bundle') return { answer };
    const refs = (bundle.entry ?? [])
      .filter((e) => (e.search?.mode ?? 'match') === 'match' && e.resource?.resourceType === resourceType)
      .map((e) => e.resource.id);
    const count = Math.max(1, Number.parseInt(query.get('_count') ?? '', 10) || DEFAULT_COUNT);
    const now = Date.now();
    const search = { id: randomUUID(), resourceType, query, refs, count, created: now, lastUsed: now, key };
    this.searches.set(search.id, search);
    this.byKey.set(key, search.id);
    return search;
  }

  async page(search, offset, count, base) {
    const ids = search.refs.slice(offset, offset + count);
    let entries = [];
    if (ids.length) {
      const q = new URLSearchParams();
      q.set('_id', ids.join(','));
      for (const [k, v] of search.query) if (INCLUDES.includes(k)) q.append(k, v);
      q.set('_count', String(SNAPSHOT_MAX));
      const answer = await this.run(search.resourceType, q);
      if (answer[1]?.resourceType !== 'Bundle') return answer;
      const found = answer[1].entry ?? [];
      const isMatch = (e) => (e.search?.mode ?? 'match') === 'match' && e.resource?.resourceType === search.resourceType;
      const byId = new Map(found.filter(isMatch).map((e) => [e.resource.id, e]));
      entries = [
        ...ids.filter((id) => byId.has(id)).map((id) => byId.get(id)),
        ...found.filter((e) => !isMatch(e)),
      ];
    }
    const pageUrl = (at) =>
      `${base}?_getpages=${search.id}&_getpagesoffset=${at}&_count=${count}&_bundletype=searchset`;
    const total = search.refs.length;
    const link = [{ relation: 'self', url: offset === 0 ? `${base}/${search.resourceType}?${search.query}` : pageUrl(offset) }];
    if (offset + count < total) link.push({ relation: 'next', url: pageUrl(offset + count) });
    if (offset > 0) link.push({ relation: 'previous', url: pageUrl(Math.max(0, offset - count)) });
    const bundle = {
      resourceType: 'Bundle',
      id: search.id,
      meta: { lastUpdated: new Date(search.created).toISOString() },
      type: 'searchset',
      total,
      link,
      entry: entries.map((e) => ({
        fullUrl: `${base}/${e.resource.resourceType}/${e.resource.id}`,
        resource: e.resource,
        search: { mode: e.search?.mode ?? 'match' },
      })),
    };
    if (!bundle.entry.length) delete bundle.entry;
    return [allOk, bundle];
  }

  // Forgets one stored search (the expire-page test control), as HAPI's expiry job.
  forget(id) {
    const s = this.searches.get(id);
    if (!s) return false;
    this.searches.delete(id);
    if (this.byKey.get(s.key) === id) this.byKey.delete(s.key);
    return true;
  }

  // Forgets the searches unused for expireMs.
  expire() {
    const now = Date.now();
    for (const [id, s] of this.searches) {
      if (now - s.lastUsed >= this.expireMs) {
        this.searches.delete(id);
        if (this.byKey.get(s.key) === id) this.byKey.delete(s.key);
      }
    }
  }
}
