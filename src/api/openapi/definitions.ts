/**
 * The runtime side of the generated definitions: the JSON generate.ts wrote at build time
 * (`dist/openapi/definitions.json`), read once, and a lookup of a kind's definition by its
 * `x-kubernetes-group-version-kind` tag.
 */

import { readFileSync } from "node:fs";
import type { Definitions, GroupVersionKind, Schema } from "./schema.js";

/**
 * Where the build wrote the definitions: `dist/openapi/definitions.json` under the package root.
 * This module runs as `dist/src/api/openapi/definitions.js`, three levels below `dist/`.
 */
export const DEFINITIONS_URL = new URL("../../../openapi/definitions.json", import.meta.url);

let loaded: Definitions | undefined;
const indexes = new WeakMap<Definitions, Map<string, { name: string; schema: Schema }>>();

/** The generated definitions, read on first use. Throws if the build did not generate them. */
export function loadDefinitions(): Definitions {
  if (loaded !== undefined) return loaded;
  let text: string;
  try {
    text = readFileSync(DEFINITIONS_URL, "utf8");
  } catch (e) {
    throw new Error(
      `Cannot load OpenAPI definitions: ${DEFINITIONS_URL.pathname} is missing; run node dist/src/api/openapi/generate.js dist/openapi/definitions.json`,
      { cause: e },
    );
  }
  loaded = Object.freeze(JSON.parse(text) as Record<string, Schema>);
  return loaded;
}

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

/** Indexes definitions by every GVK they are tagged with. */
export function indexByKind(defs: Definitions): Map<string, { name: string; schema: Schema }> {
  const index = new Map<string, { name: string; schema: Schema }>();
  for (const [name, schema] of Object.entries(defs)) {
    for (const gvk of schema["x-kubernetes-group-version-kind"] ?? []) {
      // A kind is tagged on one definition only; a second would make the lookup ambiguous.
      const key = gvkKey(gvk);
      const prior = index.get(key);
      if (prior !== undefined && prior.name !== name) throw new Error(`Cannot index definitions: ${key} is tagged on ${prior.name} and ${name}`);
      index.set(key, { name, schema });
    }
  }
  return index;
}

/**
 * The definition tagged with `gvk` (`{group: "apps", version: "v1", kind: "Deployment"}` →
 * `io.k8s.api.apps.v1.Deployment`), or undefined for a kind we have no schema for.
 * Without `defs` it looks in the loaded definitions.
 */
export function definitionForKind(gvk: GroupVersionKind, defs: Definitions = loadDefinitions()): { name: string; schema: Schema } | undefined {
  let index = indexes.get(defs);
  if (index === undefined) {
    index = indexByKind(defs);
    indexes.set(defs, index);
  }
  return index.get(gvkKey(gvk));
}
