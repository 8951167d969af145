/**
 * What the API server itself writes into a CertificateSigningRequest (upstream's CSR strategy): on
 * create, who asked — `spec.username`, `uid`, `groups`, `extra` from the authenticated user, never from
 * the body, so a signer or approver can trust them — and no status (nobody creates a pre-approved
 * request); on every write, timestamps on conditions that lack them.
 */
import type { UserInfo } from "../auth/authenticator.js";
import type { KubeObject } from "../registry/codec.js";

export function mutateCsrOnCreate(csr: KubeObject, user: UserInfo | undefined): void {
  const spec = (csr.spec ??= {});
  delete spec.username;
  delete spec.uid;
  delete spec.groups;
  delete spec.extra;
  if (user !== undefined) {
    spec.username = user.name;
    if (user.uid !== "") spec.uid = user.uid;
    if (user.groups.length > 0) spec.groups = [...user.groups];
  }
  delete csr.status;
}

/** upstream's populateConditionTimestamps: a condition without times gets `now`. */
export function populateCsrConditionTimestamps(csr: KubeObject, now: string): void {
  for (const c of (csr.status?.conditions ?? []) as KubeObject[]) {
    if (c.lastUpdateTime === undefined || c.lastUpdateTime === null) c.lastUpdateTime = now;
    if (c.lastTransitionTime === undefined || c.lastTransitionTime === null) c.lastTransitionTime = now;
  }
}
