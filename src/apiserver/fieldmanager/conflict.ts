/**
 * Apply conflicts and their 409: the message and causes are upstream's (`internal/conflict.go`) byte
 * for byte, because kubectl prints them and users grep them:
 *
 *   Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas
 *
 *   Apply failed with 2 conflicts: conflicts with "a":
 *   - .spec.replicas
 *   conflicts with "b" using apps/v1:
 *   - .metadata.labels.app
 */

import { ApiError } from "../../api/status.js";
import { parseManagerIdentifier } from "./managed_fields.js";
import { pathString, type Path } from "./path_element.js";

/** One field the applier would change that another manager owns. */
export interface Conflict {
  /** The other manager's identifier (see managerIdentifier). */
  readonly manager: string;
  readonly path: Path;
}

/** Thrown inside the field manager; `conflictError` turns it into the 409 at the boundary. */
export class ConflictsError extends Error {
  override readonly name = "ConflictsError";
  constructor(readonly conflicts: readonly Conflict[]) {
    super(conflictMessage(conflicts));
  }
}

/** A manager as upstream prints it: `"name"`, `"name" with subresource "status"`, `… using apps/v1` for updaters. */
export function printManager(id: string): string {
  let info: ReturnType<typeof parseManagerIdentifier>;
  try {
    info = parseManagerIdentifier(id);
  } catch {
    return JSON.stringify(id);
  }
  let s = JSON.stringify(info.manager);
  if (info.subresource !== "") s = `${s} with subresource ${JSON.stringify(info.subresource)}`;
  if (info.operation === "Update") return `${s} using ${info.apiVersion}`;
  return s;
}

export function conflictMessage(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0]!;
    return `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  }
  const byManager = new Map<string, Path[]>();
  for (const c of conflicts) {
    const paths = byManager.get(c.manager) ?? [];
    paths.push(c.path);
    byManager.set(c.manager, paths);
  }
  // Upstream sorts by the identifier string (Go byte order; identifiers here are ASCII JSON in practice).
  const managers = [...byManager.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines: string[] = [];
  for (const m of managers) {
    lines.push(`conflicts with ${printManager(m)}:`);
    for (const p of byManager.get(m)!) lines.push(`- ${pathString(p)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
}

/** The 409 Conflict Status upstream's NewApplyConflict returns. */
export function conflictError(conflicts: readonly Conflict[]): ApiError {
  const causes = conflicts.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(c.manager)}`,
    field: pathString(c.path),
  }));
  return new ApiError("Conflict", 409, conflictMessage(conflicts), { causes });
}
