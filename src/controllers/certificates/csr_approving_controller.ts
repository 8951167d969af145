/**
 * csrapproving (upstream's pkg/controller/certificates/approver/sarapprove.go): approves kubelet client
 * certificate requests without a person in the loop when the requester may ask for one —
 * `certificatesigningrequests/nodeclient` for a new node (bootstrap tokens), `…/selfnodeclient` for a
 * node renewing its own. Upstream asks the API server with a SubjectAccessReview; until that API and
 * RBAC exist, the same default policy the API server enforces (apiserver/auth/authorizer.ts) answers.
 * Everything else waits for `kubectl certificate approve|deny`.
 */
import type { CertificateSigningRequest } from "kubernetes-types/certificates/v1.js";
import { formatTime } from "../../api/time.js";
import type { ApiError } from "../../api/status.js";
import { allowed } from "../../apiserver/auth/authorizer.js";
import type { RequestInfo } from "../../apiserver/request/request_info.js";
import type { Lister } from "../../client/lister.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { hasCondition, watchCsrs } from "./csr_informer.js";
import { SIGNER_KUBE_APISERVER_CLIENT_KUBELET, parseRequest, signerRefusal } from "./signer.js";

export interface ApprovalDecision {
  readonly message: string;
}

function sarInfo(subresource: string): RequestInfo {
  return {
    isResourceRequest: true,
    path: `/apis/certificates.k8s.io/v1/certificatesigningrequests`,
    verb: "create",
    apiPrefix: "apis",
    apiGroup: "certificates.k8s.io",
    apiVersion: "v1",
    namespace: "",
    resource: "certificatesigningrequests",
    subresource,
    name: "",
    parts: ["certificatesigningrequests"],
  };
}

/** The approval to record for `csr`, or null when this controller leaves it alone. */
export function autoApproval(csr: CertificateSigningRequest): ApprovalDecision | null {
  if (hasCondition(csr, "Approved") || hasCondition(csr, "Denied")) return null;
  if (csr.spec?.signerName !== SIGNER_KUBE_APISERVER_CLIENT_KUBELET) return null;
  let commonName: string;
  try {
    const req = parseRequest(csr);
    if (signerRefusal(csr.spec.signerName, csr.spec.usages ?? [], req) !== null) return null;
    commonName = req.commonName;
  } catch {
    return null;
  }
  const requester = { name: csr.spec.username ?? "", uid: csr.spec.uid ?? "", groups: csr.spec.groups ?? [] };
  if (requester.name === commonName && allowed(requester, sarInfo("selfnodeclient"))) {
    return { message: "Auto approving self kubelet client certificate after SubjectAccessReview." };
  }
  if (allowed(requester, sarInfo("nodeclient"))) return { message: "Auto approving kubelet client certificate after SubjectAccessReview." };
  return null;
}

export class CsrApprovingController extends QueueController {
  #csrs!: Lister<CertificateSigningRequest>;

  constructor(ctx: ControllerContext) {
    super(ctx, "csrapproving");
  }

  init(): void {
    this.#csrs = watchCsrs(this.ctx, (key) => this.queue.add(key));
  }

  protected async sync(key: string): Promise<void> {
    const csr = this.#csrs.get("", key);
    if (csr === undefined) return;
    const decision = autoApproval(csr);
    if (decision === null) return;
    const now = formatTime(this.ctx.env.clock.wallMs());
    const approved = { type: "Approved", status: "True", reason: "AutoApproved", message: decision.message, lastUpdateTime: now, lastTransitionTime: now };
    try {
      await this.ctx.client
        .resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests")
        .updateSubresource(key, "approval", { ...csr, status: { ...(csr.status ?? {}), conditions: [...(csr.status?.conditions ?? []), approved] } });
      this.ctx.env.log.info("approved certificate signing request", { csr: key, requester: csr.spec.username });
    } catch (err) {
      if ((err as ApiError).reason === "NotFound") return;
      throw err;
    }
  }
}
