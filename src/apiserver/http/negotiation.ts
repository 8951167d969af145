/**
 * Response content negotiation for resource requests: JSON (the only wire encoding tk8s speaks; a
 * client that accepts only protobuf gets 406), YAML, and the `as=Table` / `as=PartialObjectMetadata`
 * transformations kubectl and metadata informers ask for.
 */
import { ApiError } from "../../api/status.js";

export type Transform = "none" | "table" | "partial";

export interface Negotiated {
  readonly contentType: "application/json" | "application/yaml";
  readonly transform: Transform;
  /** The group/version the transformed object is in (meta.k8s.io/v1 or v1beta1). */
  readonly transformVersion: string;
}

interface MediaRange {
  readonly type: string;
  readonly params: Record<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(",")
    .map((part) => {
      const [type, ...params] = part.split(";").map((s) => s.trim());
      const p: Record<string, string> = {};
      for (const kv of params) {
        const i = kv.indexOf("=");
        if (i > 0) p[kv.slice(0, i).toLowerCase()] = kv.slice(i + 1);
      }
      return { type: (type ?? "").toLowerCase(), params: p };
    })
    .filter((m) => m.type !== "");
}

export function negotiate(accept: string | undefined, allowTransforms: boolean): Negotiated {
  const ranges = parseAccept(accept === undefined || accept === "" ? "application/json" : accept);
  for (const m of ranges) {
    const json = m.type === "application/json" || m.type === "*/*" || m.type === "application/*" || m.type === "application/json;stream=watch";
    const yaml = m.type === "application/yaml";
    if (!json && !yaml) continue;
    const as = m.params.as;
    if (as === undefined) return { contentType: json ? "application/json" : "application/yaml", transform: "none", transformVersion: "" };
    if (!allowTransforms || m.params.g !== "meta.k8s.io" || (m.params.v !== "v1" && m.params.v !== "v1beta1")) continue;
    if (as === "Table") return { contentType: json ? "application/json" : "application/yaml", transform: "table", transformVersion: m.params.v };
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") {
      return { contentType: json ? "application/json" : "application/yaml", transform: "partial", transformVersion: m.params.v };
    }
  }
  throw new ApiError(
    "NotAcceptable",
    406,
    "only the following media types are accepted: application/json, application/yaml, application/json;stream=watch",
  );
}
