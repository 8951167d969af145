/**
 * Which bytes `GET /openapi/v2` answers with, as kube-openapi's handler decides: the first Accept
 * clause (by q, then order) that names JSON or one of the two protobuf spellings wins; `*` matches
 * and then JSON, listed first, is chosen; nothing acceptable is a 406. The protobuf form is always
 * labelled with the dot spelling: Go's mime.ParseMediaType rejects the `@` one, and client-go parses
 * the response Content-Type before it hands over the bytes ("mime: unexpected content after media
 * subtype"). Both forms carry the same strong ETag, the quoted upper-case SHA-512 hex of the JSON
 * bytes (upstream reuses it because responses vary by Accept), so clients revalidate with If-None-Match.
 *
 * Both forms are built once per document object, on first request: the document does not change
 * while the server runs, and encoding the protobuf form takes a few hundred milliseconds.
 */

import { createHash } from "node:crypto";
import { encodeOpenApiV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_DOT } from "./openapi_v2_proto.js";

export interface OpenApiV2Representation {
  readonly contentType: string;
  readonly body: Uint8Array;
  /** Quoted, ready for the ETag header. */
  readonly etag: string;
}

/** The types upstream serves, in its order of preference. */
const SERVED: readonly { readonly type: string; readonly subtype: string; readonly protobuf: boolean }[] = [
  { type: "application", subtype: "json", protobuf: false },
  { type: "application", subtype: OPENAPI_V2_PROTOBUF.slice("application/".length), protobuf: true },
  { type: "application", subtype: OPENAPI_V2_PROTOBUF_DOT.slice("application/".length), protobuf: true },
];

/** Accept clauses looked at, at most: a header is short, and anything past this is noise. */
const ACCEPT_CLAUSES_MAX = 32;

interface Built {
  json?: OpenApiV2Representation;
  proto?: OpenApiV2Representation;
}

const built = new WeakMap<object, Built>();

function etagOf(bytes: Uint8Array): string {
  return `"${createHash("sha512").update(bytes).digest("hex").toUpperCase()}"`;
}

interface AcceptClause {
  readonly type: string;
  readonly subtype: string;
  readonly q: number;
}

/** Accept clauses sorted by q (highest first, ties in header order), q=0 dropped. */
export function parseAccept(accept: string): AcceptClause[] {
  const clauses: AcceptClause[] = [];
  for (const raw of accept.split(",").slice(0, ACCEPT_CLAUSES_MAX)) {
    const [range = "", ...params] = raw.split(";").map((s) => s.trim());
    const slash = range.indexOf("/");
    const type = slash < 0 ? range : range.slice(0, slash);
    const subtype = slash < 0 ? "*" : range.slice(slash + 1);
    if (type === "") continue;
    let q = 1;
    for (const p of params) {
      const m = /^q\s*=\s*([0-9.]+)$/.exec(p);
      if (m !== null) q = Number(m[1]);
    }
    if (!(q > 0)) continue;
    clauses.push({ type, subtype, q });
  }
  // Array.prototype.sort is stable, so equal q keeps header order.
  return clauses.sort((a, b) => b.q - a.q);
}

/**
 * The representation of `doc` (the swagger 2.0 JSON document) to send for this Accept header, or
 * null when none is acceptable (answer 406). An empty or missing Accept accepts anything.
 */
export function openApiV2Representation(doc: object, accept: string | undefined): OpenApiV2Representation | null {
  const clauses = parseAccept(accept === undefined || accept.trim() === "" ? "*/*" : accept);
  for (const clause of clauses) {
    for (const served of SERVED) {
      if (clause.type !== "*" && clause.type !== served.type) continue;
      if (clause.subtype !== "*" && clause.subtype !== served.subtype) continue;
      return served.protobuf ? protobufForm(doc) : jsonForm(doc);
    }
  }
  return null;
}

function builtFor(doc: object): Built {
  let b = built.get(doc);
  if (b === undefined) {
    b = {};
    built.set(doc, b);
  }
  return b;
}

function jsonForm(doc: object): OpenApiV2Representation {
  const b = builtFor(doc);
  if (b.json === undefined) {
    const body = Buffer.from(JSON.stringify(doc));
    b.json = { contentType: "application/json", body, etag: etagOf(body) };
  }
  return b.json;
}

function protobufForm(doc: object): OpenApiV2Representation {
  const b = builtFor(doc);
  b.proto ??= { contentType: OPENAPI_V2_PROTOBUF_DOT, body: encodeOpenApiV2(doc), etag: jsonForm(doc).etag };
  return b.proto;
}

/** Whether an If-None-Match header matches `etag` (weak comparison, `*` matches anything), so 304 applies. */
export function ifNoneMatchHits(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = (t: string): string => t.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}
