/**
 * Bootstrap tokens (upstream's `--enable-bootstrap-token-auth`): a bearer token `<id>.<secret>` is
 * checked against the Secret `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`.
 * A live token with `usage-bootstrap-authentication: "true"` authenticates as `system:bootstrap:<id>` in
 * `system:bootstrappers` (plus its `auth-extra-groups`), which may do no more than ask for a node's
 * client certificate. Tokens are how a new node joins (`tk8s agent --token`).
 */
import { timingSafeEqual } from "node:crypto";
import type { UserInfo } from "./authenticator.js";
import { BOOTSTRAPPERS_GROUP } from "./authorizer.js";

export const BOOTSTRAP_TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token";
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = "bootstrap-token-";
export const BOOTSTRAP_USER_PREFIX = "system:bootstrap:";
/** kubeadm's group for the tokens it makes; its CSRs are auto-approved. */
export const DEFAULT_NODE_TOKEN_GROUP = "system:bootstrappers:kubeadm:default-node-token";
const TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

export interface BootstrapToken {
  readonly id: string;
  readonly secret: string;
}

/** `abcdef.0123456789abcdef`, or null when the string is not shaped like a bootstrap token. */
export function parseBootstrapToken(token: string): BootstrapToken | null {
  const m = TOKEN.exec(token);
  return m === null ? null : { id: m[1]!, secret: m[2]! };
}

export function formatBootstrapToken(t: BootstrapToken): string {
  return `${t.id}.${t.secret}`;
}

/** A fresh token from `randomBytes` (a CSPRNG in production). */
export function newBootstrapToken(randomBytes: (n: number) => Uint8Array): BootstrapToken {
  const pick = (n: number) => Array.from(randomBytes(n), (b) => ALPHABET[b % ALPHABET.length]).join("");
  return { id: pick(6), secret: pick(16) };
}

export interface BootstrapTokenSecretOptions {
  readonly description?: string;
  /** RFC 3339; absent: the token never expires. */
  readonly expiration?: string;
  readonly extraGroups?: readonly string[];
}

/** The Secret that makes `token` valid, as `kubeadm token create` writes it. */
export function bootstrapTokenSecret(token: BootstrapToken, o: BootstrapTokenSecretOptions = {}): Record<string, unknown> {
  const data: Record<string, string> = {
    "token-id": token.id,
    "token-secret": token.secret,
    "usage-bootstrap-authentication": "true",
    "usage-bootstrap-signing": "true",
    "auth-extra-groups": (o.extraGroups ?? [DEFAULT_NODE_TOKEN_GROUP]).join(","),
  };
  if (o.description !== undefined) data["description"] = o.description;
  if (o.expiration !== undefined) data["expiration"] = o.expiration;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${token.id}`, namespace: "kube-system" },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
  };
}

function secretValue(secret: Record<string, unknown>, key: string): string | undefined {
  const data = (secret["data"] ?? {}) as Record<string, string>;
  const v = data[key];
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

/**
 * The user `token` authenticates as, given the Secret its id names (null when there is none), or null
 * when the token is not valid — wrong secret, wrong type, not for authentication, expired, deleted.
 */
export function bootstrapTokenUser(token: string, secret: Record<string, unknown> | null, nowMs: number): UserInfo | null {
  const t = parseBootstrapToken(token);
  if (t === null || secret === null) return null;
  const meta = (secret["metadata"] ?? {}) as Record<string, unknown>;
  if (secret["type"] !== BOOTSTRAP_TOKEN_SECRET_TYPE || meta["deletionTimestamp"] !== undefined) return null;
  const stored = secretValue(secret, "token-secret") ?? "";
  if (secretValue(secret, "token-id") !== t.id || stored.length !== t.secret.length) return null;
  if (!timingSafeEqual(Buffer.from(stored), Buffer.from(t.secret))) return null;
  if (secretValue(secret, "usage-bootstrap-authentication") !== "true") return null;
  const expiration = secretValue(secret, "expiration");
  if (expiration !== undefined && !(Date.parse(expiration) > nowMs)) return null;
  const extra = (secretValue(secret, "auth-extra-groups") ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
  return { name: `${BOOTSTRAP_USER_PREFIX}${t.id}`, uid: "", groups: [BOOTSTRAPPERS_GROUP, ...extra, "system:authenticated"] };
}
