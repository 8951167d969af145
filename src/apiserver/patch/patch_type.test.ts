import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { BUILTIN_PATCH_TYPES, CUSTOM_RESOURCE_PATCH_TYPES, patchContentType, supportedPatchTypes } from "./patch_type.js";

const accepted: { header: string; kind: string }[] = [
  { header: "application/json-patch+json", kind: "json" },
  { header: "application/merge-patch+json", kind: "merge" },
  { header: "application/strategic-merge-patch+json", kind: "strategic" },
  { header: "application/apply-patch+yaml", kind: "apply" },
  { header: "application/strategic-merge-patch+json; charset=utf-8", kind: "strategic" },
];

for (const c of accepted) {
  test(`patchContentType: a built-in resource takes "${c.header}" as a ${c.kind} patch`, () => {
    assert.equal(patchContentType(c.header, BUILTIN_PATCH_TYPES).kind, c.kind);
  });
}

const builtinMessage =
  "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml";
const customMessage =
  "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

const refused: { name: string; header: string | undefined; supported: typeof BUILTIN_PATCH_TYPES; message: string }[] = [
  { name: "plain JSON", header: "application/json", supported: BUILTIN_PATCH_TYPES, message: builtinMessage },
  { name: "no Content-Type at all", header: undefined, supported: BUILTIN_PATCH_TYPES, message: builtinMessage },
  { name: "a type in other case (compared case-sensitively)", header: "Application/Merge-Patch+JSON", supported: BUILTIN_PATCH_TYPES, message: builtinMessage },
  { name: "strategic merge for a custom resource", header: "application/strategic-merge-patch+json", supported: CUSTOM_RESOURCE_PATCH_TYPES, message: customMessage },
];

for (const c of refused) {
  test(`patchContentType: ${c.name} is 415 UnsupportedMediaType listing the accepted types`, () => {
    assert.throws(
      () => patchContentType(c.header, c.supported),
      (err: unknown) => {
        assert.ok(err instanceof ApiError);
        assert.deepEqual(err.toStatus(), {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: c.message,
          reason: "UnsupportedMediaType",
          code: 415,
        });
        return true;
      },
    );
  });
}

test("supportedPatchTypes: custom resources take merge patch but not strategic merge patch", () => {
  assert.equal(supportedPatchTypes({ custom: true }).includes("application/strategic-merge-patch+json"), false);
  assert.equal(supportedPatchTypes({ custom: true }).includes("application/merge-patch+json"), true);
  assert.equal(supportedPatchTypes({ custom: false }).includes("application/strategic-merge-patch+json"), true);
});
