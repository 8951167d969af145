/**
 * Builds the API server's machinery from the modules that implement it: defaulting, validation,
 * managed fields and server-side apply, the patch kinds, unknown-field detection, Table printing and
 * the OpenAPI documents — all keyed by the served resource and its generated OpenAPI definition.
 */
import { formatTime } from "../api/time.js";
import { applyDefaults } from "../api/defaults/defaults.js";
import { decodeKubernetesProtobuf } from "../api/protobuf/decode.js";
import { ApiError, badRequest } from "../api/status.js";
import { definitionForKind, loadDefinitions } from "../api/openapi/definitions.js";
import { openApiV2Document, openApiV3GroupVersion, openApiV3Index } from "../api/openapi/documents.js";
import type { Definitions, Schema } from "../api/openapi/schema.js";
import { pruneUnknownFields, unknownFields } from "../api/openapi/unknown_fields.js";
import { groupVersionString, type ResourceInfo } from "../api/resources.js";
import { invalidError } from "../api/validation/field_errors.js";
import { validateCreate, validateUpdate } from "../api/validation/validate.js";
import { applyConfiguration } from "./fieldmanager/apply.js";
import { trackUpdate } from "./fieldmanager/update.js";
import type { Machinery } from "./machinery.js";
import { applyPatchBody } from "./patch/apply_patch.js";
import { toTable } from "./printers/table.js";
import type { KubeObject } from "./registry/codec.js";
import { canonicalizeQuantities } from "./registry/quantities.js";
import type { OpenApiServer } from "./server.js";
import { KUBERNETES_VERSION } from "./server.js";

/** A Secret's write-only `stringData` becomes base64 `data` (upstream's conversion); it is never stored. */
function mergeStringData(secret: KubeObject): void {
  const stringData = secret.stringData;
  if (stringData === undefined || stringData === null || typeof stringData !== "object") return;
  const data: Record<string, string> = { ...(secret.data ?? {}) };
  for (const [k, v] of Object.entries(stringData as Record<string, unknown>)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
  secret.data = data;
  delete secret.stringData;
}

export function newMachinery(defs: Definitions = loadDefinitions()): Machinery {
  const schemaOf = (info: ResourceInfo): Schema | undefined => definitionForKind({ group: info.group, version: info.version, kind: info.kind }, defs)?.schema;
  return {
    pipeline: {
      async mutate(info, obj) {
        if (info.group === "" && info.kind === "Secret") mergeStringData(obj);
        canonicalizeQuantities(info.kind, info.version, obj);
        applyDefaults(info.group, info.version, info.kind, obj);
      },
      async validate(info, obj, old, _ctx, subresource) {
        // A binding is not a pod update: its handler checked the Binding and changes only the node.
        if (subresource === "binding") return;
        const errors = old === null ? validateCreate(info.group, info.version, info.kind, obj) : validateUpdate(info.group, info.version, info.kind, obj, old, subresource);
        if (errors.length > 0) throw invalidError(info.group, info.kind, String(obj.metadata?.name ?? ""), errors);
      },
      trackManagedFields(info, obj, old, ctx, subresource) {
        if (ctx.manager === "") return obj;
        return trackUpdate(old, obj, {
          manager: ctx.manager,
          operation: "Update",
          ...(subresource === "" ? {} : { subresource }),
          schema: schemaOf(info),
          defs,
          now: formatTime(ctx.now.getTime()),
          apiVersion: groupVersionString(info.group, info.version),
        }) as KubeObject;
      },
    },
    unknownFields(info, obj) {
      return unknownFields(obj, schemaOf(info), defs);
    },
    pruneUnknownFields(info, obj) {
      pruneUnknownFields(obj, schemaOf(info), defs);
    },
    applyPatch(kind, info, current, body) {
      return applyPatchBody(current, body, { kind, schema: { $ref: `#/definitions/${info.definition}` }, defs }) as KubeObject;
    },
    applyConfiguration(info, live, config, options) {
      return applyConfiguration(live, config, {
        manager: options.manager,
        force: options.force,
        schema: schemaOf(info),
        defs,
        now: formatTime(options.now.getTime()),
        apiVersion: groupVersionString(info.group, info.version),
      }) as KubeObject;
    },
    decodeProtobuf(body, expect) {
      try {
        // Unknown protobuf fields are skipped, as upstream's decoder does (a newer client's fields are not an error).
        return decodeKubernetesProtobuf(body, defs, { defaultGVK: expect }) as KubeObject;
      } catch (err) {
        if (err instanceof ApiError && err.code === 400) {
          throw badRequest(`${expect.kind} in version "${expect.version}" cannot be handled as a ${expect.kind}: ${err.message}`);
        }
        throw err;
      }
    },
    toTable(info, objects, options) {
      return toTable(info, objects, options) as unknown as KubeObject;
    },
  };
}

export function newOpenApiServer(defs: Definitions = loadDefinitions()): OpenApiServer {
  const options = { version: KUBERNETES_VERSION.gitVersion };
  // The documents never change while the server runs: build each once, on first request.
  let v2: object | null = null;
  let index: object | null = null;
  const v3 = new Map<string, object | null>();
  return {
    v2: () => (v2 ??= openApiV2Document(defs, options)),
    v3Index: () => (index ??= openApiV3Index(defs, options)),
    v3(path) {
      if (!v3.has(path)) v3.set(path, openApiV3GroupVersion(path, defs, options) ?? null);
      return v3.get(path)!;
    },
  };
}
