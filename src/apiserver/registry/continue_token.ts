/**
 * List continue tokens as upstream encodes them: base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}`,
 * where `start` is the next key to read relative to the resource prefix and `rv` the revision the first
 * page was read at (every page reads at that revision, so a paged list is one consistent snapshot).
 */
import { ApiError, badRequest } from "../../api/status.js";

export interface ContinuePoint {
  readonly revision: number;
  /** Read keys from this one on (relative to the resource prefix). */
  readonly startKey: string;
}

export function encodeContinue(revision: number, lastKeyRelative: string): string {
  const json = JSON.stringify({ v: "meta.k8s.io/v1", rv: revision, start: `${lastKeyRelative}\u0000` });
  return Buffer.from(json, "utf8").toString("base64url");
}

export function decodeContinue(token: string): ContinuePoint {
  let parsed: { v?: unknown; rv?: unknown; start?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw badRequest("invalid continue token: continue key is not valid: illegal base64 data or json");
  }
  if (parsed.v !== "meta.k8s.io/v1") throw badRequest("invalid continue token: continue key is not valid: server does not recognize this encoded key");
  if (typeof parsed.rv !== "number" || !Number.isSafeInteger(parsed.rv) || parsed.rv <= 0) {
    throw badRequest("invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
  if (typeof parsed.start !== "string" || parsed.start === "" || parsed.start.includes("/..") || parsed.start.startsWith("/")) {
    throw badRequest("invalid continue token: continue key is not valid: encoded start key is not valid");
  }
  return { revision: parsed.rv, startKey: parsed.start };
}

/** The 410 for a continue token whose revision has been compacted, worded as upstream. */
export function expiredContinue(): ApiError {
  return new ApiError(
    "Expired",
    410,
    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
  );
}
