import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapTokenSecret, bootstrapTokenUser, formatBootstrapToken, newBootstrapToken, parseBootstrapToken } from "./bootstrap_token.js";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const token = { id: "abcdef", secret: "0123456789abcdef" };

test("a token is six and sixteen characters of [a-z0-9]; new ones are too", () => {
  assert.deepEqual(parseBootstrapToken("abcdef.0123456789abcdef"), token);
  for (const bad of ["abcdef0123456789abcdef", "ABCDEF.0123456789abcdef", "abcde.0123456789abcdef", "abcdef.0123456789abcde"]) assert.equal(parseBootstrapToken(bad), null, bad);
  let n = 0;
  const made = newBootstrapToken((k) => Uint8Array.from({ length: k }, () => n++));
  assert.match(formatBootstrapToken(made), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
});

test("a valid token authenticates as system:bootstrap:<id> in system:bootstrappers and its extra groups", () => {
  const secret = bootstrapTokenSecret(token);
  assert.deepEqual(bootstrapTokenUser("abcdef.0123456789abcdef", secret, NOW), {
    name: "system:bootstrap:abcdef",
    uid: "",
    groups: ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"],
  });
});

test("wrong secrets, expired, deleted, non-authentication and mistyped Secrets authenticate nobody", () => {
  const secret = bootstrapTokenSecret(token);
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const withData = (k: string, v: string) => ({ ...secret, data: { ...(secret["data"] as object), [k]: b64(v) } });
  const cases: [string, Record<string, unknown> | null][] = [
    ["wrong secret", bootstrapTokenSecret({ id: "abcdef", secret: "ffffffffffffffff" })],
    ["no Secret", null],
    ["expired", bootstrapTokenSecret(token, { expiration: "2026-11-24T11:59:59Z" })],
    ["not for authentication", withData("usage-bootstrap-authentication", "false")],
    ["other type", { ...secret, type: "Opaque" }],
    ["being deleted", { ...secret, metadata: { ...(secret["metadata"] as object), deletionTimestamp: "2026-11-24T11:00:00Z" } }],
  ];
  for (const [what, s] of cases) assert.equal(bootstrapTokenUser("abcdef.0123456789abcdef", s, NOW), null, what);
  assert.notEqual(bootstrapTokenUser("abcdef.0123456789abcdef", bootstrapTokenSecret(token, { expiration: "2026-11-25T00:00:00Z" }), NOW), null, "not yet expired");
  // Extra groups outside system:bootstrappers: are dropped, as upstream.
  assert.deepEqual(bootstrapTokenUser("abcdef.0123456789abcdef", bootstrapTokenSecret(token, { extraGroups: ["system:masters"] }), NOW)?.groups, ["system:bootstrappers", "system:authenticated"]);
});
