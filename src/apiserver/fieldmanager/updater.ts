/**
 * The ownership bookkeeping shared by apply and update (upstream's `merge.Updater`): what an edit
 * changed is taken from every other manager (or reported as conflicts), and an applier's fields it no
 * longer applies are pruned from the object unless someone else still owns them.
 */

import type { Definitions, Schema } from "../../api/openapi/schema.js";
import { ConflictsError, type Conflict } from "./conflict.js";
import { FieldSet, fieldsOf } from "./field_set.js";
import type { Managed, VersionedSet } from "./managed_fields.js";
import { compare, ensureNamedFieldsAreMembers, removeItems, withZeroStructs, type Comparison } from "./typed_value.js";

/** The type of the object being managed and the fields its strategy resets. */
export interface TypeContext {
  readonly schema: Schema | undefined;
  readonly defs: Definitions;
  /**
   * Fields nobody owns through this endpoint because the strategy resets them: `status` on the main
   * resource, `spec` (and sometimes `metadata.labels`) on `/status` (upstream's ResetFieldsStrategy).
   */
  readonly resetFields: FieldSet;
}

/** Compares old with new as Go objects would compare, without the reset fields. */
export function compareObjects(oldObj: unknown, newObj: unknown, ctx: TypeContext): Comparison {
  const c = compare(withZeroStructs(oldObj, ctx.schema, ctx.defs), withZeroStructs(newObj, ctx.schema, ctx.defs), ctx.schema, ctx.defs);
  return {
    added: c.added.recursiveDifference(ctx.resetFields),
    modified: c.modified.recursiveDifference(ctx.resetFields),
    removed: c.removed.recursiveDifference(ctx.resetFields),
  };
}

/**
 * Takes the fields that changed between `oldObj` and `newObj` away from every manager but `workflow`.
 * Without `force`, a change to a field another manager owns is a conflict (ConflictsError). Managers
 * left with nothing are dropped.
 */
export function updateManagers(oldObj: unknown, newObj: unknown, managed: Managed, workflow: string, force: boolean, ctx: TypeContext): Comparison {
  const cmp = compareObjects(oldObj, newObj, ctx);
  const changed = cmp.modified.union(cmp.added);
  const conflicts: Conflict[] = [];
  const taken = new Map<string, FieldSet>();
  for (const [id, vs] of managed.fields) {
    if (id === workflow) continue;
    const conflictSet = vs.set.intersection(changed);
    if (conflictSet.empty) continue;
    taken.set(id, conflictSet);
    for (const path of conflictSet.paths()) conflicts.push({ manager: id, path });
  }
  if (!force && conflicts.length > 0) throw new ConflictsError(conflicts);
  for (const [id, vs] of [...managed.fields]) {
    if (id === workflow) continue;
    let set = vs.set;
    const t = taken.get(id);
    if (t !== undefined) set = set.difference(t);
    set = set.difference(cmp.removed);
    if (set.empty) managed.fields.delete(id);
    else managed.fields.set(id, { ...vs, set });
  }
  const own = managed.fields.get(workflow);
  if (own !== undefined && own.set.empty) managed.fields.delete(workflow);
  return cmp;
}

function allowingDuplicates(value: unknown, ctx: TypeContext): FieldSet {
  return fieldsOf(value, ctx.schema, ctx.defs, { allowDuplicates: true });
}

/**
 * Removes from `merged` what `applier` applied last time (`lastSet`) and no longer applies, unless some
 * manager (the applier's new configuration included) owns it. Fields the applier never owned stay,
 * even when unowned (upstream's prune, addBackOwnedItems and addBackDanglingItems).
 */
export function prune(merged: unknown, managed: Managed, lastSet: VersionedSet | undefined, ctx: TypeContext): unknown {
  if (lastSet === undefined || lastSet.set.empty) return merged;
  const named = (s: FieldSet) => ensureNamedFieldsAreMembers(s, ctx.schema, ctx.defs);
  const last = named(lastSet.set);
  const pruned0 = removeItems(merged, last, ctx.schema, ctx.defs);
  let owned: FieldSet | undefined;
  for (const vs of managed.fields.values()) owned = owned === undefined ? vs.set : owned.union(vs.set);
  const mergedSet = named(allowingDuplicates(merged, ctx));
  const notOwned = mergedSet.difference(named(allowingDuplicates(pruned0, ctx)).union(owned === undefined ? new FieldSet() : named(owned)));
  const pruned1 = removeItems(merged, notOwned, ctx.schema, ctx.defs);
  // Of what that removed, only what the applier had owned goes: unowned fields it never set stay.
  const removedByPrune = mergedSet.difference(named(allowingDuplicates(pruned1, ctx)));
  return removeItems(merged, removedByPrune.intersection(last), ctx.schema, ctx.defs);
}
