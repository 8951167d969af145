/** What both certificate controllers share: the CSR informer, queueing every add and update, and condition checks. */
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { Lister } from "../../client/lister.js";
import { metaNamespaceKey } from "../../client/store.js";
import type { ControllerContext } from "../controller.js";

export function watchCsrs(ctx: ControllerContext, enqueue: (key: string) => void): Lister<CertificateSigningRequest> {
  const informer = ctx.informers.informerFor<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests");
  informer.addEventHandler({
    onAdd: (csr) => enqueue(metaNamespaceKey(csr)),
    onUpdate: (_old, csr) => enqueue(metaNamespaceKey(csr)),
  });
  return new Lister(informer.indexer);
}

export function hasCondition(csr: CertificateSigningRequest, type: string): boolean {
  return (csr.status?.conditions ?? []).some((c) => c.type === type && c.status !== "False");
}
