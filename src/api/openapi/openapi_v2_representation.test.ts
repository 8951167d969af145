import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { decodeOpenApiV2, OPENAPI_V2_PROTOBUF_DOT } from "./openapi_v2_proto.js";
import { ifNoneMatchHits, openApiV2Representation, parseAccept } from "./openapi_v2_representation.js";

const DOC = { swagger: "2.0", info: { title: "Kubernetes", version: "v1.32.0" }, definitions: { A: { type: "object", properties: {} } } };
const JSON_TYPE = "application/json";

const ACCEPTS: { accept: string | undefined; want: string | null }[] = [
  { accept: undefined, want: JSON_TYPE },
  { accept: "", want: JSON_TYPE },
  { accept: "*/*", want: JSON_TYPE },
  { accept: "application/json", want: JSON_TYPE },
  { accept: "application/*", want: JSON_TYPE },
  // client-go's request (kubectl's client-side validation): answered with the parseable spelling.
  { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", want: OPENAPI_V2_PROTOBUF_DOT },
  { accept: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", want: OPENAPI_V2_PROTOBUF_DOT },
  { accept: "application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf", want: OPENAPI_V2_PROTOBUF_DOT },
  { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0.9, application/json", want: JSON_TYPE },
  { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf;q=0, application/json", want: JSON_TYPE },
  { accept: "application/vnd.kubernetes.protobuf", want: null },
  { accept: "application/json;q=0", want: null },
  { accept: "text/html", want: null },
];
for (const c of ACCEPTS) {
  test(`Accept ${JSON.stringify(c.accept)} is answered with ${c.want ?? "406"}`, () => {
    assert.equal(openApiV2Representation(DOC, c.accept)?.contentType ?? null, c.want);
  });
}

test("the JSON form is the document's JSON and the protobuf form decodes back to the document", () => {
  const json = openApiV2Representation(DOC, JSON_TYPE)!;
  assert.deepEqual(JSON.parse(Buffer.from(json.body).toString("utf8")), DOC);
  const proto = openApiV2Representation(DOC, OPENAPI_V2_PROTOBUF_DOT)!;
  assert.deepEqual(decodeOpenApiV2(proto.body), DOC);
});

test("both forms carry the quoted SHA-512 of the JSON bytes as ETag, and are built once per document", () => {
  const json = openApiV2Representation(DOC, JSON_TYPE)!;
  const proto = openApiV2Representation(DOC, OPENAPI_V2_PROTOBUF_DOT)!;
  const want = `"${createHash("sha512").update(JSON.stringify(DOC)).digest("hex").toUpperCase()}"`;
  assert.equal(json.etag, want);
  assert.equal(proto.etag, want);
  assert.equal(openApiV2Representation(DOC, OPENAPI_V2_PROTOBUF_DOT)!.body, proto.body, "the encoded bytes are cached");
  const other = { ...DOC, info: { title: "Kubernetes", version: "v1.33.0" } };
  assert.notEqual(openApiV2Representation(other, JSON_TYPE)!.etag, want);
});

const IF_NONE_MATCH: { header: string | undefined; hits: boolean }[] = [
  { header: undefined, hits: false },
  { header: '"ABC"', hits: true },
  { header: 'W/"ABC"', hits: true },
  { header: '"XYZ", "ABC"', hits: true },
  { header: "*", hits: true },
  { header: '"XYZ"', hits: false },
  { header: "ABC", hits: false },
];
for (const c of IF_NONE_MATCH) {
  test(`If-None-Match ${JSON.stringify(c.header)} ${c.hits ? "matches" : "does not match"} ETag "ABC"`, () => {
    assert.equal(ifNoneMatchHits(c.header, '"ABC"'), c.hits);
  });
}

test("Accept clauses sort by q with ties in header order, and q=0 clauses are dropped", () => {
  assert.deepEqual(parseAccept("text/plain;q=0.5, application/json, */*;q=0.5, image/png;q=0"), [
    { type: "application", subtype: "json", q: 1 },
    { type: "text", subtype: "plain", q: 0.5 },
    { type: "*", subtype: "*", q: 0.5 },
  ]);
});
