/**
 * Which patch a PATCH request carries, read from its Content-Type as kube-apiserver's PatchResource
 * does: the text before the first ";" (so "; charset=utf-8" is ignored), compared case-sensitively
 * with the types the resource accepts. Anything else is 415 UnsupportedMediaType, listing them:
 *
 *   built-in kinds  application/json-patch+json, application/merge-patch+json,
 *                   application/strategic-merge-patch+json, application/apply-patch+yaml
 *   custom kinds    application/json-patch+json, application/merge-patch+json,
 *                   application/apply-patch+yaml   (no strategic merge: CRDs carry no patch metadata)
 *
 * (installer.go and apiextensions-apiserver's customresource_handler.go; the CBOR apply type is
 * added only behind the CBORServingAndStorage feature gate, off in 1.32.)
 */
import { ApiError } from "../../api/status.js";

/** types.PatchType values. */
export const JSON_PATCH_TYPE = "application/json-patch+json";
export const MERGE_PATCH_TYPE = "application/merge-patch+json";
export const STRATEGIC_MERGE_PATCH_TYPE = "application/strategic-merge-patch+json";
export const APPLY_PATCH_TYPE = "application/apply-patch+yaml";

export type PatchType = typeof JSON_PATCH_TYPE | typeof MERGE_PATCH_TYPE | typeof STRATEGIC_MERGE_PATCH_TYPE | typeof APPLY_PATCH_TYPE;

/** How the patch is applied: RFC 6902, RFC 7386, strategic merge, or server-side apply. */
export type PatchKind = "json" | "merge" | "strategic" | "apply";

const KIND_OF: Readonly<Record<PatchType, PatchKind>> = {
  [JSON_PATCH_TYPE]: "json",
  [MERGE_PATCH_TYPE]: "merge",
  [STRATEGIC_MERGE_PATCH_TYPE]: "strategic",
  [APPLY_PATCH_TYPE]: "apply",
};

/** The patch types a built-in resource accepts, in the order the 415 message lists them. */
export const BUILTIN_PATCH_TYPES: readonly PatchType[] = [JSON_PATCH_TYPE, MERGE_PATCH_TYPE, STRATEGIC_MERGE_PATCH_TYPE, APPLY_PATCH_TYPE];

/** The patch types a custom resource accepts. */
export const CUSTOM_RESOURCE_PATCH_TYPES: readonly PatchType[] = [JSON_PATCH_TYPE, MERGE_PATCH_TYPE, APPLY_PATCH_TYPE];

/** The patch types of a resource: custom resources take no strategic merge patch. */
export function supportedPatchTypes(resource: { readonly custom: boolean }): readonly PatchType[] {
  return resource.custom ? CUSTOM_RESOURCE_PATCH_TYPES : BUILTIN_PATCH_TYPES;
}

export interface PatchContentType {
  readonly type: PatchType;
  readonly kind: PatchKind;
}

/**
 * Reads the Content-Type header of a PATCH; throws the 415 when the resource does not accept it.
 * `supported` is BUILTIN_PATCH_TYPES or CUSTOM_RESOURCE_PATCH_TYPES.
 */
export function patchContentType(contentTypeHeader: string | undefined, supported: readonly PatchType[]): PatchContentType {
  let contentType = contentTypeHeader ?? "";
  const semicolon = contentType.indexOf(";");
  // Upstream cuts only when ";" is not the first character.
  if (semicolon > 0) contentType = contentType.slice(0, semicolon);
  const type = supported.find((t) => t === contentType);
  if (type === undefined) throw unsupportedMediaType(supported);
  return { type, kind: KIND_OF[type] };
}

/** negotiation.NewUnsupportedMediaTypeError: 415 listing the accepted media types. */
export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return new ApiError(
    "UnsupportedMediaType",
    415,
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
  );
}
