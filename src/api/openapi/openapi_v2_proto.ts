/**
 * `/openapi/v2` in protobuf: our swagger 2.0 JSON document encoded as gnostic's `openapi_v2.Document`
 * (see openapi_v2_proto_text.ts), the form client-go asks for (`Accept:
 * application/com.github.proto-openapi.spec.v2@v1.0+protobuf`) and the only one it can read.
 *
 * Why it matters: kubectl validates a `kind: List` on the client (the server cannot validate a List:
 * it is not a served kind). It decodes this document with gnostic, parses every definition with
 * kube-openapi's `proto.NewOpenAPIData`, finds each item's definition by its
 * `x-kubernetes-group-version-kind` and walks the item against it. So what must survive the encoding:
 * every definition (a `$ref` to a missing one fails the whole parse), `type` (TypeItem), `properties`
 * (present-but-empty is an object, absent is a map), `items` (exactly one schema for an array),
 * `additionalProperties`, `required`, and the `x-kubernetes-*` extensions as NamedAny whose `Any.yaml`
 * is YAML (kube-openapi reads it with yaml.v2, which expects the GVK list as YAML maps).
 *
 * The mapping follows gnostic's JSON → message compiler: keys starting with `x-` become
 * `vendor_extension`, `$ref` becomes `_ref`, values of `default`, `enum` and `example` become
 * `Any{yaml}`, maps become repeated `Named*` pairs in key order, and the oneofs are chosen the way
 * gnostic chooses them (a parameter by `in`, a security scheme by `type` and `flow`, a response schema
 * by `type: file`). Keys that the message has no field for are an error: the JSON document is ours,
 * so such a key is a bug to fix, not a value to drop silently.
 */

import protobuf from "protobufjs";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { GOOGLE_PROTOBUF_ANY_PROTO, OPENAPI_V2_PROTO } from "./openapi_v2_proto_text.js";

/** The media type client-go asks for (`Accept`); upstream calls this `@` spelling deprecated. */
export const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/** The spelling upstream answers with (`Content-Type`) for either: unlike the `@` one, it is a valid media type. */
export const OPENAPI_V2_PROTOBUF_DOT = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/** Nesting a schema may have before we call the document malformed (the deepest real one is about 20). */
const DEPTH_MAX = 128;

type Json = Record<string, unknown>;
/** A protobufjs plain message object, field names as in the .proto (keepCase). */
type Msg = Record<string, unknown>;

let documentType: protobuf.Type | undefined;

/** The `openapi.v2.Document` type, parsed once from the schema text. */
export function openApiV2DocumentType(): protobuf.Type {
  if (documentType === undefined) {
    const root = new protobuf.Root();
    // keepCase: the fields keep their .proto names (`_ref`, `vendor_extension`), so our tables read
    // like the schema.
    protobuf.parse(GOOGLE_PROTOBUF_ANY_PROTO, root, { keepCase: true });
    protobuf.parse(OPENAPI_V2_PROTO, root, { keepCase: true });
    root.resolveAll();
    documentType = root.lookupType("openapi.v2.Document");
  }
  return documentType;
}

/** Encodes a swagger 2.0 JSON document as `openapi_v2.Document` bytes. */
export function encodeOpenApiV2(doc: object): Uint8Array {
  const type = openApiV2DocumentType();
  const msg = DOCUMENT.encode(doc, "", 0) as Msg;
  const problem = type.verify(msg);
  if (problem !== null) throw new Error(`Cannot encode OpenAPI v2 document: ${problem}`);
  return type.encode(msg).finish();
}

/** Decodes `openapi_v2.Document` bytes back into the swagger 2.0 JSON document (the inverse of encodeOpenApiV2). */
export function decodeOpenApiV2(bytes: Uint8Array): Json {
  const type = openApiV2DocumentType();
  const msg = type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: false, oneofs: false });
  return DOCUMENT.decode(msg, 0) as Json;
}

// ---- codecs: one per JSON value shape, each with its inverse ----

interface Codec {
  /** JSON value → message value; `path` names the value in errors. */
  encode(value: unknown, path: string, depth: number): unknown;
  /** Message value → JSON value. */
  decode(value: unknown, depth: number): unknown;
}

class MalformedDocumentError extends Error {
  override name = "MalformedDocumentError";
}

function fail(path: string, what: string): never {
  throw new MalformedDocumentError(`Cannot encode OpenAPI v2 document: ${path || "(root)"} ${what}`);
}

function isJson(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkDepth(depth: number, path: string): void {
  if (depth > DEPTH_MAX) fail(path, `is nested deeper than ${DEPTH_MAX}`);
}

function scalar(kind: "string" | "boolean" | "number"): Codec {
  return {
    encode(v, path) {
      if (typeof v !== kind) fail(path, `must be a ${kind}: current value is ${JSON.stringify(v)}`);
      return v;
    },
    decode: (v) => v,
  };
}

const STRING = scalar("string");
const BOOL = scalar("boolean");
const NUMBER = scalar("number");

const STRINGS: Codec = {
  encode(v, path) {
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) fail(path, "must be a list of strings");
    return v;
  },
  decode: (v) => v ?? [],
};

/** A value of any shape: gnostic keeps it as YAML text (yaml.v2 reads it, hence YAML 1.1 quoting of `no`/`on`). */
const ANY: Codec = {
  encode: (v) => ({ yaml: stringifyYaml(v, { version: "1.1", lineWidth: 0 }) }),
  decode: (v) => parseYaml(String((v as Msg).yaml ?? ""), { version: "1.1" }),
};

const ANYS: Codec = {
  encode(v, path, depth) {
    if (!Array.isArray(v)) fail(path, "must be a list");
    return v.map((e, i) => ANY.encode(e, `${path}[${i}]`, depth));
  },
  decode: (v, depth) => ((v as unknown[] | undefined) ?? []).map((e) => ANY.decode(e, depth)),
};

/** One field of a message: its JSON key, its .proto name and how its value converts. */
type Field = readonly [json: string, proto: string, codec: Codec];

interface MessageOptions {
  /** The repeated NamedAny field that holds the `x-` keys, if the message has one. */
  readonly extensions?: string;
}

/** An object with fixed keys ↔ a message, `x-` keys ↔ its vendor extensions. */
function message(fields: () => readonly Field[], options: MessageOptions = {}): Codec {
  let byJson: Map<string, Field> | undefined;
  const table = (): Map<string, Field> => (byJson ??= new Map(fields().map((f) => [f[0], f])));
  return {
    encode(v, path, depth) {
      checkDepth(depth, path);
      if (!isJson(v)) fail(path, "must be an object");
      const out: Msg = {};
      const extensions: Msg[] = [];
      for (const [key, value] of Object.entries(v)) {
        if (value === undefined) continue;
        if (key.startsWith("x-") && options.extensions !== undefined) {
          extensions.push({ name: key, value: ANY.encode(value, `${path}.${key}`, depth + 1) });
          continue;
        }
        const field = table().get(key);
        if (field === undefined) fail(path, `has a key the protobuf message has no field for: "${key}"`);
        out[field[1]] = field[2].encode(value, `${path}.${key}`, depth + 1);
      }
      if (extensions.length > 0) out[options.extensions!] = extensions;
      return out;
    },
    decode(v, depth) {
      const m = v as Msg;
      const out: Json = {};
      for (const [json, proto, codec] of table().values()) {
        if (m[proto] !== undefined) out[json] = codec.decode(m[proto], depth + 1);
      }
      if (options.extensions !== undefined) {
        for (const e of (m[options.extensions] as Msg[] | undefined) ?? []) {
          out[String(e.name)] = ANY.decode(e.value, depth + 1);
        }
      }
      return out;
    },
  };
}

/**
 * A JSON map ↔ a repeated `Named*` field (`{name, value}` pairs in key order), wrapped in a message
 * under `field` (`Properties.additional_properties`) or bare when `field` is undefined.
 */
function namedMap(value: () => Codec, field: string | undefined): Codec {
  return {
    encode(v, path, depth) {
      checkDepth(depth, path);
      if (!isJson(v)) fail(path, "must be an object");
      const pairs = Object.entries(v).map(([name, e]) => ({ name, value: value().encode(e, `${path}.${name}`, depth + 1) }));
      return field === undefined ? pairs : { [field]: pairs };
    },
    decode(v, depth) {
      const pairs = ((field === undefined ? v : (v as Msg)[field]) as Msg[] | undefined) ?? [];
      const out: Json = {};
      for (const p of pairs) out[String(p.name)] = value().decode(p.value ?? {}, depth + 1);
      return out;
    },
  };
}

/** A list of messages. */
function list(element: () => Codec): Codec {
  return {
    encode(v, path, depth) {
      if (!Array.isArray(v)) fail(path, "must be a list");
      return v.map((e, i) => element().encode(e, `${path}[${i}]`, depth + 1));
    },
    decode: (v, depth) => ((v as unknown[] | undefined) ?? []).map((e) => element().decode(e, depth + 1)),
  };
}

/** A oneof wrapper message: `choose` names the member for a JSON value; decoding takes whichever is set. */
function oneof(members: Readonly<Record<string, () => Codec>>, choose: (v: Json, path: string) => string): Codec {
  return {
    encode(v, path, depth) {
      if (!isJson(v)) fail(path, "must be an object");
      const member = choose(v, path);
      return { [member]: members[member]!().encode(v, path, depth) };
    },
    decode(v, depth) {
      const m = v as Msg;
      for (const [name, codec] of Object.entries(members)) if (m[name] !== undefined) return codec().decode(m[name], depth);
      return {};
    },
  };
}

/** A JSON value that is a string or a list of strings (`type`) ↔ `TypeItem{value}`. */
const TYPE_ITEM: Codec = {
  encode(v, path, depth) {
    return { value: STRINGS.encode(typeof v === "string" ? [v] : v, path, depth) };
  },
  decode(v) {
    const values = ((v as Msg).value as string[] | undefined) ?? [];
    return values.length === 1 ? values[0] : values;
  },
};

/** `items`: one schema or a list of them ↔ `ItemsItem{schema}` (one schema decodes as an object). */
const ITEMS_ITEM: Codec = {
  encode(v, path, depth) {
    const schemas = Array.isArray(v) ? v : [v];
    return { schema: schemas.map((s, i) => SCHEMA.encode(s, Array.isArray(v) ? `${path}[${i}]` : path, depth + 1)) };
  },
  decode(v, depth) {
    const schemas = (((v as Msg).schema as unknown[] | undefined) ?? []).map((s) => SCHEMA.decode(s, depth + 1));
    return schemas.length === 1 ? schemas[0] : schemas;
  },
};

/** `additionalProperties`: a boolean or a schema ↔ `AdditionalPropertiesItem`. */
const ADDITIONAL_PROPERTIES_ITEM: Codec = {
  encode(v, path, depth) {
    return typeof v === "boolean" ? { boolean: v } : { schema: SCHEMA.encode(v, path, depth + 1) };
  },
  decode(v, depth) {
    const m = v as Msg;
    return m.schema !== undefined ? SCHEMA.decode(m.schema, depth + 1) : m.boolean === true;
  },
};

const EXTERNAL_DOCS = message(() => [["description", "description", STRING], ["url", "url", STRING]], { extensions: "vendor_extension" });

const XML = message(() => [
  ["name", "name", STRING], ["namespace", "namespace", STRING], ["prefix", "prefix", STRING],
  ["attribute", "attribute", BOOL], ["wrapped", "wrapped", BOOL],
], { extensions: "vendor_extension" });

/** JSON-schema validation keywords shared by Schema, the parameter sub-schemas, Header and PrimitivesItems. */
const VALIDATIONS: readonly Field[] = [
  ["multipleOf", "multiple_of", NUMBER],
  ["maximum", "maximum", NUMBER],
  ["exclusiveMaximum", "exclusive_maximum", BOOL],
  ["minimum", "minimum", NUMBER],
  ["exclusiveMinimum", "exclusive_minimum", BOOL],
  ["maxLength", "max_length", NUMBER],
  ["minLength", "min_length", NUMBER],
  ["pattern", "pattern", STRING],
  ["maxItems", "max_items", NUMBER],
  ["minItems", "min_items", NUMBER],
  ["uniqueItems", "unique_items", BOOL],
  ["enum", "enum", ANYS],
];

const SCHEMA: Codec = message(() => [
  ["$ref", "_ref", STRING],
  ["format", "format", STRING],
  ["title", "title", STRING],
  ["description", "description", STRING],
  ["default", "default", ANY],
  ...VALIDATIONS,
  ["maxProperties", "max_properties", NUMBER],
  ["minProperties", "min_properties", NUMBER],
  ["required", "required", STRINGS],
  ["additionalProperties", "additional_properties", ADDITIONAL_PROPERTIES_ITEM],
  ["type", "type", TYPE_ITEM],
  ["items", "items", ITEMS_ITEM],
  ["allOf", "all_of", list(() => SCHEMA)],
  ["properties", "properties", namedMap(() => SCHEMA, "additional_properties")],
  ["discriminator", "discriminator", STRING],
  ["readOnly", "read_only", BOOL],
  ["xml", "xml", XML],
  ["externalDocs", "external_docs", EXTERNAL_DOCS],
  ["example", "example", ANY],
], { extensions: "vendor_extension" });

const FILE_SCHEMA = message(() => [
  ["format", "format", STRING], ["title", "title", STRING], ["description", "description", STRING],
  ["default", "default", ANY], ["required", "required", STRINGS], ["type", "type", STRING],
  ["readOnly", "read_only", BOOL], ["externalDocs", "external_docs", EXTERNAL_DOCS], ["example", "example", ANY],
], { extensions: "vendor_extension" });

const PRIMITIVES_ITEMS: Codec = message(() => [
  ["type", "type", STRING], ["format", "format", STRING], ["items", "items", PRIMITIVES_ITEMS],
  ["collectionFormat", "collection_format", STRING], ["default", "default", ANY], ...VALIDATIONS,
], { extensions: "vendor_extension" });

/** The fields every non-body parameter has (`allowEmptyValue` only in query and formData). */
function parameterSubSchema(allowEmptyValue: boolean): Codec {
  return message(() => [
    ["required", "required", BOOL], ["in", "in", STRING], ["description", "description", STRING], ["name", "name", STRING],
    ...(allowEmptyValue ? [["allowEmptyValue", "allow_empty_value", BOOL] as const] : []),
    ["type", "type", STRING], ["format", "format", STRING], ["items", "items", PRIMITIVES_ITEMS],
    ["collectionFormat", "collection_format", STRING], ["default", "default", ANY], ...VALIDATIONS,
  ], { extensions: "vendor_extension" });
}

const BODY_PARAMETER = message(() => [
  ["description", "description", STRING], ["name", "name", STRING], ["in", "in", STRING],
  ["required", "required", BOOL], ["schema", "schema", SCHEMA],
], { extensions: "vendor_extension" });

const NON_BODY_PARAMETER = oneof({
  header_parameter_sub_schema: () => parameterSubSchema(false),
  form_data_parameter_sub_schema: () => parameterSubSchema(true),
  query_parameter_sub_schema: () => parameterSubSchema(true),
  path_parameter_sub_schema: () => parameterSubSchema(false),
}, (v, path) => {
  switch (v.in) {
    case "header": return "header_parameter_sub_schema";
    case "formData": return "form_data_parameter_sub_schema";
    case "query": return "query_parameter_sub_schema";
    case "path": return "path_parameter_sub_schema";
    default: return fail(path, `has an unknown parameter location "in": ${JSON.stringify(v.in)}`);
  }
});

const PARAMETER = oneof({ body_parameter: () => BODY_PARAMETER, non_body_parameter: () => NON_BODY_PARAMETER }, (v) => (v.in === "body" ? "body_parameter" : "non_body_parameter"));

const JSON_REFERENCE = message(() => [["$ref", "_ref", STRING], ["description", "description", STRING]]);

/** A parameter or a `$ref` to one. */
const PARAMETERS_ITEM = oneof({ parameter: () => PARAMETER, json_reference: () => JSON_REFERENCE }, (v) => (v.$ref !== undefined ? "json_reference" : "parameter"));

const HEADER = message(() => [
  ["type", "type", STRING], ["format", "format", STRING], ["items", "items", PRIMITIVES_ITEMS],
  ["collectionFormat", "collection_format", STRING], ["default", "default", ANY], ...VALIDATIONS,
  ["description", "description", STRING],
], { extensions: "vendor_extension" });

const SCHEMA_ITEM = oneof({ schema: () => SCHEMA, file_schema: () => FILE_SCHEMA }, (v) => (v.type === "file" ? "file_schema" : "schema"));

const RESPONSE = message(() => [
  ["description", "description", STRING],
  ["schema", "schema", SCHEMA_ITEM],
  ["headers", "headers", namedMap(() => HEADER, "additional_properties")],
  ["examples", "examples", namedMap(() => ANY, "additional_properties")],
], { extensions: "vendor_extension" });

const RESPONSE_VALUE = oneof({ response: () => RESPONSE, json_reference: () => JSON_REFERENCE }, (v) => (v.$ref !== undefined ? "json_reference" : "response"));

/**
 * A JSON object whose ordinary keys are a named map in `field` and whose `x-` keys are vendor extensions
 * (gnostic's Responses and Paths): `{"200": …, "x-a": …}` ↔ `{field: [{name: "200", value}], vendor_extension: […]}`.
 */
function namedWithExtensions(field: string, value: () => Codec): Codec {
  return {
    encode(v, path, depth) {
      if (!isJson(v)) fail(path, "must be an object");
      const named: Json = {};
      const extensions: Json = {};
      for (const [k, e] of Object.entries(v)) (k.startsWith("x-") ? extensions : named)[k] = e;
      const out: Msg = { [field]: namedMap(value, undefined).encode(named, path, depth) };
      const ext = namedMap(() => ANY, undefined).encode(extensions, path, depth) as Msg[];
      if (ext.length > 0) out.vendor_extension = ext;
      return out;
    },
    decode(v, depth) {
      const m = v as Msg;
      return {
        ...(namedMap(value, undefined).decode(m[field], depth) as Json),
        ...(namedMap(() => ANY, undefined).decode(m.vendor_extension, depth) as Json),
      };
    },
  };
}

/** `responses` of an operation: status codes (and `default`) ↔ response_code, `x-` keys ↔ vendor_extension. */
const RESPONSES = namedWithExtensions("response_code", () => RESPONSE_VALUE);

const STRING_ARRAY: Codec = {
  encode: (v, path, depth) => ({ value: STRINGS.encode(v, path, depth) }),
  decode: (v) => ((v as Msg).value as string[] | undefined) ?? [],
};
/** Security requirements: each maps a scheme name to its scopes ↔ NamedStringArray pairs. */
const SECURITY_REQUIREMENTS = list(() => namedMap(() => STRING_ARRAY, "additional_properties"));

const OPERATION = message(() => [
  ["tags", "tags", STRINGS],
  ["summary", "summary", STRING],
  ["description", "description", STRING],
  ["externalDocs", "external_docs", EXTERNAL_DOCS],
  ["operationId", "operation_id", STRING],
  ["produces", "produces", STRINGS],
  ["consumes", "consumes", STRINGS],
  ["parameters", "parameters", list(() => PARAMETERS_ITEM)],
  ["responses", "responses", RESPONSES],
  ["schemes", "schemes", STRINGS],
  ["deprecated", "deprecated", BOOL],
  ["security", "security", SECURITY_REQUIREMENTS],
], { extensions: "vendor_extension" });

const PATH_ITEM = message(() => [
  ["$ref", "_ref", STRING],
  ["get", "get", OPERATION], ["put", "put", OPERATION], ["post", "post", OPERATION], ["delete", "delete", OPERATION],
  ["options", "options", OPERATION], ["head", "head", OPERATION], ["patch", "patch", OPERATION],
  ["parameters", "parameters", list(() => PARAMETERS_ITEM)],
], { extensions: "vendor_extension" });

/** `paths`: path templates ↔ `path`, `x-` keys ↔ vendor_extension. */
const PATHS = namedWithExtensions("path", () => PATH_ITEM);

const OAUTH2_SCOPES = namedMap(() => STRING, "additional_properties");

function securityScheme(fields: readonly Field[]): Codec {
  return message(() => [["type", "type", STRING], ["description", "description", STRING], ...fields], { extensions: "vendor_extension" });
}

const SECURITY_DEFINITIONS_ITEM = oneof({
  basic_authentication_security: () => securityScheme([]),
  api_key_security: () => securityScheme([["name", "name", STRING], ["in", "in", STRING]]),
  oauth2_implicit_security: () => securityScheme([["flow", "flow", STRING], ["scopes", "scopes", OAUTH2_SCOPES], ["authorizationUrl", "authorization_url", STRING]]),
  oauth2_password_security: () => securityScheme([["flow", "flow", STRING], ["scopes", "scopes", OAUTH2_SCOPES], ["tokenUrl", "token_url", STRING]]),
  oauth2_application_security: () => securityScheme([["flow", "flow", STRING], ["scopes", "scopes", OAUTH2_SCOPES], ["tokenUrl", "token_url", STRING]]),
  oauth2_access_code_security: () => securityScheme([["flow", "flow", STRING], ["scopes", "scopes", OAUTH2_SCOPES], ["authorizationUrl", "authorization_url", STRING], ["tokenUrl", "token_url", STRING]]),
}, (v, path) => {
  if (v.type === "basic") return "basic_authentication_security";
  if (v.type === "apiKey") return "api_key_security";
  if (v.type === "oauth2") {
    switch (v.flow) {
      case "implicit": return "oauth2_implicit_security";
      case "password": return "oauth2_password_security";
      case "application": return "oauth2_application_security";
      case "accessCode": return "oauth2_access_code_security";
    }
  }
  return fail(path, `has an unknown security scheme: type ${JSON.stringify(v.type)}, flow ${JSON.stringify(v.flow)}`);
});

const INFO = message(() => [
  ["title", "title", STRING], ["version", "version", STRING], ["description", "description", STRING],
  ["termsOfService", "terms_of_service", STRING],
  ["contact", "contact", message(() => [["name", "name", STRING], ["url", "url", STRING], ["email", "email", STRING]], { extensions: "vendor_extension" })],
  ["license", "license", message(() => [["name", "name", STRING], ["url", "url", STRING]], { extensions: "vendor_extension" })],
], { extensions: "vendor_extension" });

const TAG = message(() => [["name", "name", STRING], ["description", "description", STRING], ["externalDocs", "external_docs", EXTERNAL_DOCS]], { extensions: "vendor_extension" });

const DOCUMENT = message(() => [
  ["swagger", "swagger", STRING],
  ["info", "info", INFO],
  ["host", "host", STRING],
  ["basePath", "base_path", STRING],
  ["schemes", "schemes", STRINGS],
  ["consumes", "consumes", STRINGS],
  ["produces", "produces", STRINGS],
  ["paths", "paths", PATHS],
  ["definitions", "definitions", namedMap(() => SCHEMA, "additional_properties")],
  ["parameters", "parameters", namedMap(() => PARAMETER, "additional_properties")],
  ["responses", "responses", namedMap(() => RESPONSE, "additional_properties")],
  ["security", "security", SECURITY_REQUIREMENTS],
  ["securityDefinitions", "security_definitions", namedMap(() => SECURITY_DEFINITIONS_ITEM, "additional_properties")],
  ["tags", "tags", list(() => TAG)],
  ["externalDocs", "external_docs", EXTERNAL_DOCS],
], { extensions: "vendor_extension" });
