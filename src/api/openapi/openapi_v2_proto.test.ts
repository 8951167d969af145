import { test } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { loadDefinitions } from "./definitions.js";
import { openApiV2Document } from "./documents.js";
import { decodeOpenApiV2, encodeOpenApiV2, openApiV2DocumentType } from "./openapi_v2_proto.js";

type Msg = Record<string, any>;

/** The raw message protobufjs decodes, in .proto field names: what gnostic would see. */
function rawMessage(bytes: Uint8Array): Msg {
  const type = openApiV2DocumentType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: false, oneofs: false }) as Msg;
}

function definitionsOf(msg: Msg): Map<string, Msg> {
  return new Map((msg.definitions.additional_properties as Msg[]).map((n) => [n.name as string, n.value as Msg]));
}

test("the served v2 document survives an encode and decode round trip unchanged", () => {
  const doc = openApiV2Document(loadDefinitions(), { version: "v1.32.0" });
  const back = decodeOpenApiV2(encodeOpenApiV2(doc));
  assert.deepEqual(back, JSON.parse(JSON.stringify(doc)));
});

test("field numbers on the wire are upstream's: swagger 1, definitions 9, Schema.type 22 holding TypeItem.value 1", () => {
  const bytes = encodeOpenApiV2({ swagger: "2.0", definitions: { A: { type: "object" } } });
  const typeItem = [0x0a, 6, ...Buffer.from("object")];
  const schema = [0xb2, 0x01, typeItem.length, ...typeItem]; // (22 << 3) | 2 = 178, a two-byte varint
  const named = [0x0a, 1, ...Buffer.from("A"), 0x12, schema.length, ...schema];
  const definitions = [0x0a, named.length, ...named];
  const want = [0x0a, 3, ...Buffer.from("2.0"), 0x4a, definitions.length, ...definitions];
  assert.deepEqual([...bytes], want);
});

const DEFINITIONS = {
  "io.k8s.api.core.v1.ConfigMap": {
    description: "ConfigMap holds configuration data for pods to consume.",
    type: "object",
    properties: {
      data: { type: "object", additionalProperties: { type: "string" } },
      metadata: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", description: "Standard object's metadata." },
      immutable: { type: "boolean" },
    },
    "x-kubernetes-group-version-kind": [{ group: "", kind: "ConfigMap", version: "v1" }],
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {
    type: "object",
    required: ["name"],
    properties: {
      name: { type: "string" },
      finalizers: {
        type: "array",
        items: { type: "string", default: "" },
        "x-kubernetes-list-type": "set",
        "x-kubernetes-patch-strategy": "merge",
      },
      generation: { type: "integer", format: "int64", minimum: 0, maxLength: 9007199254740991 },
    },
  },
  "io.k8s.api.core.v1.Probe": {
    type: "object",
    properties: { policy: { type: "string", enum: ["Always", "no", "On"] } },
  },
  "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": { type: "object" },
  "io.k8s.api.core.v1.EmptyDirVolumeSource": { type: "object", properties: {} },
  "io.k8s.apimachinery.pkg.runtime.RawExtension": { type: "object", additionalProperties: true },
};

test("definitions keep refs, types, items, maps and required as gnostic reads them", () => {
  const bytes = encodeOpenApiV2({ swagger: "2.0", definitions: DEFINITIONS });
  const defs = definitionsOf(rawMessage(bytes));
  assert.deepEqual([...defs.keys()], Object.keys(DEFINITIONS));

  const cm = defs.get("io.k8s.api.core.v1.ConfigMap")!;
  assert.deepEqual(cm.type, { value: ["object"] });
  const props = new Map((cm.properties.additional_properties as Msg[]).map((n) => [n.name, n.value]));
  assert.deepEqual(props.get("metadata"), { _ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", description: "Standard object's metadata." });
  assert.deepEqual(props.get("data").additional_properties, { schema: { type: { value: ["string"] } } });

  const meta = defs.get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")!;
  assert.deepEqual(meta.required, ["name"]);
  const finalizers = (meta.properties.additional_properties as Msg[]).find((n) => n.name === "finalizers")!.value;
  assert.equal(finalizers.items.schema.length, 1, "an array has exactly one item schema");
  assert.deepEqual(finalizers.items.schema[0].type, { value: ["string"] });
  const generation = (meta.properties.additional_properties as Msg[]).find((n) => n.name === "generation")!.value;
  assert.equal(generation.max_length, 9007199254740991);
  assert.equal(generation.minimum, 0);

  // kube-openapi tells an object (properties present, even empty) from a map (properties absent).
  assert.equal(defs.get("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1")!.properties, undefined);
  assert.deepEqual(defs.get("io.k8s.api.core.v1.EmptyDirVolumeSource")!.properties, {});
  assert.deepEqual(defs.get("io.k8s.apimachinery.pkg.runtime.RawExtension")!.additional_properties, { boolean: true });
});

test("vendor extensions and enum values are NamedAny and Any whose yaml is YAML that yaml.v2 reads back", () => {
  const defs = definitionsOf(rawMessage(encodeOpenApiV2({ swagger: "2.0", definitions: DEFINITIONS })));
  const cm = defs.get("io.k8s.api.core.v1.ConfigMap")!;
  assert.deepEqual(cm.vendor_extension, [{ name: "x-kubernetes-group-version-kind", value: { yaml: '- group: ""\n  kind: ConfigMap\n  version: v1\n' } }]);

  const meta = defs.get("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")!;
  const finalizers = (meta.properties.additional_properties as Msg[]).find((n) => n.name === "finalizers")!.value;
  assert.deepEqual(finalizers.vendor_extension, [
    { name: "x-kubernetes-list-type", value: { yaml: "set\n" } },
    { name: "x-kubernetes-patch-strategy", value: { yaml: "merge\n" } },
  ]);
  assert.deepEqual(finalizers.items.schema[0].default, { yaml: '""\n' });

  // yaml.v2 is YAML 1.1: unquoted `no` and `On` would read back as booleans.
  const policy = (defs.get("io.k8s.api.core.v1.Probe")!.properties.additional_properties as Msg[])[0].value;
  const values = (policy.enum as Msg[]).map((a) => a.yaml as string);
  assert.deepEqual(values, ["Always\n", '"no"\n', '"On"\n']);
  assert.deepEqual(values.map((y) => parseYaml(y, { version: "1.1" })), ["Always", "no", "On"]);
});

test("operations carry parameters by location, responses by code and the kind they act on", () => {
  const doc = {
    swagger: "2.0",
    paths: {
      "/api/v1/namespaces/{namespace}/configmaps/{name}": {
        patch: {
          consumes: ["application/strategic-merge-patch+json"],
          operationId: "patchCoreV1NamespacedConfigMap",
          parameters: [
            { name: "body", in: "body", required: true, schema: { $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } },
            { uniqueItems: true, type: "string", description: "fieldValidation instructs the server", name: "fieldValidation", in: "query" },
          ],
          responses: { "200": { description: "OK", schema: { $ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" } }, "401": { description: "Unauthorized" } },
          "x-kubernetes-action": "patch",
          "x-kubernetes-group-version-kind": { group: "", kind: "ConfigMap", version: "v1" },
        },
        parameters: [{ name: "name", in: "path", type: "string", required: true, description: "name of the ConfigMap", uniqueItems: true }],
      },
    },
  };
  const msg = rawMessage(encodeOpenApiV2(doc));
  const [item] = msg.paths.path as Msg[];
  assert.equal(item!.name, "/api/v1/namespaces/{namespace}/configmaps/{name}");
  const op = item!.value.patch;
  assert.equal(op.operation_id, "patchCoreV1NamespacedConfigMap");
  assert.deepEqual(op.parameters[0], { parameter: { body_parameter: { name: "body", in: "body", required: true, schema: { _ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } } } });
  assert.deepEqual(op.parameters[1].parameter.non_body_parameter.query_parameter_sub_schema.name, "fieldValidation");
  assert.equal(item!.value.parameters[0].parameter.non_body_parameter.path_parameter_sub_schema.required, true);
  assert.deepEqual(op.responses.response_code.map((r: Msg) => r.name), ["200", "401"]);
  assert.deepEqual(op.responses.response_code[0].value.response.schema, { schema: { _ref: "#/definitions/io.k8s.api.core.v1.ConfigMap" } });
  assert.deepEqual(op.vendor_extension.map((e: Msg) => [e.name, e.value.yaml]), [
    ["x-kubernetes-action", "patch\n"],
    ["x-kubernetes-group-version-kind", 'group: ""\nkind: ConfigMap\nversion: v1\n'],
  ]);
  assert.deepEqual(decodeOpenApiV2(encodeOpenApiV2(doc)), doc);
});

test("security definitions and requirements encode as their oneof member and named string arrays", () => {
  const doc = {
    swagger: "2.0",
    securityDefinitions: { BearerToken: { description: "Bearer Token authentication", type: "apiKey", name: "authorization", in: "header" } },
    security: [{ BearerToken: [] }],
  };
  const msg = rawMessage(encodeOpenApiV2(doc));
  assert.deepEqual(msg.security_definitions.additional_properties[0].value, {
    api_key_security: { description: "Bearer Token authentication", type: "apiKey", name: "authorization", in: "header" },
  });
  assert.deepEqual(msg.security, [{ additional_properties: [{ name: "BearerToken", value: {} }] }]);
  assert.deepEqual(decodeOpenApiV2(encodeOpenApiV2(doc)), doc);
});

const MALFORMED = [
  { name: "a key the message has no field for", doc: { swagger: "2.0", definitions: { A: { type: "object", nullable: true } } }, message: /\.definitions\.A has a key the protobuf message has no field for: "nullable"/ },
  { name: "a value of the wrong type", doc: { swagger: "2.0", definitions: { A: { description: 3 } } }, message: /\.definitions\.A\.description must be a string: current value is 3/ },
  { name: "a parameter in an unknown location", doc: { swagger: "2.0", paths: { "/x": { get: { parameters: [{ name: "c", in: "cookie" }] } } } }, message: /has an unknown parameter location "in": "cookie"/ },
];
for (const c of MALFORMED) {
  test(`encoding refuses a document with ${c.name}`, () => {
    assert.throws(() => encodeOpenApiV2(c.doc), (e: unknown) => e instanceof Error && e.name === "MalformedDocumentError" && c.message.test(e.message));
  });
}

test("a schema nested deeper than the limit is refused instead of overflowing the stack", () => {
  let schema: Record<string, unknown> = { type: "string" };
  for (let i = 0; i < 200; i++) schema = { type: "array", items: schema };
  assert.throws(() => encodeOpenApiV2({ swagger: "2.0", definitions: { Deep: schema } }), /is nested deeper than 128/);
});
