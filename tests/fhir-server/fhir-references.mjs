// Referential integrity on delete, as HAPI FHIR's JPA server enforces it
// (JpaStorageSettings.setEnforceReferentialIntegrityOnDelete, default true):
// a resource that another current resource refers to cannot be deleted; the
// delete answers 409 Conflict with an OperationOutcome per conflict, worded as
// HAPI's DeleteConflictUtil words it:
//   "Unable to delete Observation/X because at least one resource has a
//    reference to this resource. First reference found was resource
//    Observation/Y in path Observation.derivedFrom"
// HAPI finds references through its reference search parameters' index; this
// module looks at every Reference.reference in the resource (relative, absolute
// or versioned), which covers the same links for what nenfhir and the tests
// write (derivedFrom, hasMember, result, subject, specimen, focus ...).

import { OperationOutcomeError } from '@medplum/core';

// The dotted element path (no indices, e.g. 'DiagnosticReport.result') of the
// first reference in `resource` to `target` ('Type/id'), else null.
export function referencePath(resource, target) {
  const matches = (ref) =>
    typeof ref === 'string' && (ref === target || ref.endsWith(`/${target}`) || ref.startsWith(`${target}/_history/`) ||
      ref.includes(`/${target}/_history/`));
  const walk = (value, path) => {
    if (Array.isArray(value)) {
      for (const v of value) {
        const found = walk(v, path);
        if (found) return found;
      }
      return null;
    }
    if (value === null || typeof value !== 'object') return null;
    if (matches(value.reference)) return path;
    for (const [key, v] of Object.entries(value)) {
      if (key === 'contained' || key === 'meta' || key === 'text' || typeof v !== 'object') continue;
      const found = walk(v, `${path}.${key}`);
      if (found) return found;
    }
    return null;
  };
  return walk(resource, resource.resourceType);
}

// Throws a 409 OperationOutcomeError when a current resource (in `resources`,
// MemoryRepository's Map type -> Map id -> resource) other than the ones in
// `deleted` (a Set of 'Type/id') refers to one of them.
export function checkDeleteConflicts(resources, deleted) {
  const issues = [];
  for (const target of deleted) {
    const needle = `${target}"`;
    const needleVersioned = `${target}/_history/`;
    let found = null;
    for (const byId of resources.values()) {
      for (const resource of byId.values()) {
        const ref = `${resource.resourceType}/${resource.id}`;
        if (deleted.has(ref)) continue;
        const text = JSON.stringify(resource);
        if (!text.includes(needle) && !text.includes(needleVersioned)) continue;
        const path = referencePath(resource, target);
        if (path) {
          found = { ref, path };
          break;
        }
      }
      if (found) break;
    }
    if (found) {
      issues.push({
        severity: 'error',
        code: 'processing',
        diagnostics:
          `Unable to delete ${target} because at least one resource has a reference to this resource. ` +
          `First reference found was resource ${found.ref} in path ${found.path}`,
      });
    }
  }
  if (issues.length) throw new OperationOutcomeError({ resourceType: 'OperationOutcome', id: 'conflict', issue: issues });
}
