import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate, createHash } from "node:crypto";
import { ensureClusterPki } from "../apiserver/pki/pki.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatJoinToken, parseJoinToken, publicKeyPin } from "./join_token.js";

test("a join token pins the CA's public key as kubeadm's sha256 hash and carries a bootstrap token", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tk8s-join-"));
  try {
    const pki = await ensureClusterPki(dir, { serverNames: [] });
    const token = formatJoinToken(pki.ca.certPem, { id: "abcdef", secret: "0123456789abcdef" });
    const spki = new X509Certificate(pki.ca.certPem).publicKey.export({ type: "spki", format: "der" });
    assert.equal(token, `K10${createHash("sha256").update(spki).digest("hex")}::abcdef.0123456789abcdef`);
    assert.deepEqual(parseJoinToken(`${token}\n`), { caHash: publicKeyPin(pki.ca.certPem), token: { id: "abcdef", secret: "0123456789abcdef" } });
    assert.notEqual(publicKeyPin(pki.apiserver.certPem), publicKeyPin(pki.ca.certPem));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a malformed join token is refused with what it should look like", () => {
  assert.throws(() => parseJoinToken("abcdef.0123456789abcdef"), /must look like K10<64 hex digits>::<id>\.<secret>/);
  assert.throws(() => parseJoinToken(`K10${"a".repeat(64)}::not-a-token`), /must be a bootstrap token/);
});
