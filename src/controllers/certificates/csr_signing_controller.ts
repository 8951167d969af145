/**
 * csrsigning (upstream's pkg/controller/certificates/signer): signs approved CertificateSigningRequests
 * of the built-in signers with the cluster CA (`--cluster-signing-cert-file/--cluster-signing-key-file`)
 * and writes the certificate through `/status`. A request its signer may not sign — or whose signature
 * does not verify — gets a `Failed` condition saying why instead, as upstream does; requests for other
 * signers are left to whoever implements them.
 */
import type { CertificateSigningRequest, CertificateSigningRequestCondition } from "kubernetes-types/certificates/v1.js";
import { formatTime } from "../../api/time.js";
import type { ApiError } from "../../api/status.js";
import type { Lister } from "../../client/lister.js";
import { QueueController, type ControllerContext } from "../controller.js";
import { hasCondition, watchCsrs } from "./csr_informer.js";
import { BUILTIN_SIGNERS, parseRequest, signerRefusal, signRequest, type SigningCa } from "./signer.js";

/** Whether the signer has work: approved, not denied or failed, no certificate yet, a signer we own. */
export function needsSigning(csr: CertificateSigningRequest): boolean {
  if (!(BUILTIN_SIGNERS as readonly string[]).includes(csr.spec?.signerName ?? "")) return false;
  if (!hasCondition(csr, "Approved") || hasCondition(csr, "Denied") || hasCondition(csr, "Failed")) return false;
  return (csr.status?.certificate ?? "") === "";
}

export class CsrSigningController extends QueueController {
  readonly #ca: SigningCa;
  #csrs!: Lister<CertificateSigningRequest>;

  constructor(ctx: ControllerContext, ca: SigningCa) {
    super(ctx, "csrsigning");
    this.#ca = ca;
  }

  init(): void {
    this.#csrs = watchCsrs(this.ctx, (key) => this.queue.add(key));
  }

  protected async sync(key: string): Promise<void> {
    const csr = this.#csrs.get("", key);
    if (csr === undefined || !needsSigning(csr)) return;
    const usages = csr.spec.usages ?? [];
    let refusal: string | null;
    let certificate: string | null = null;
    try {
      const req = parseRequest(csr);
      refusal = (await req.csr.verify()) ? signerRefusal(csr.spec.signerName, usages, req) : "the request's signature does not verify";
      if (refusal === null) certificate = await signRequest(this.#ca, csr, req, this.ctx.env.clock.wallMs());
    } catch (err) {
      refusal = `unable to parse csr: ${err instanceof Error ? err.message : String(err)}`;
    }
    const status = { ...(csr.status ?? {}) };
    if (certificate !== null) {
      status.certificate = Buffer.from(certificate).toString("base64");
    } else {
      const now = formatTime(this.ctx.env.clock.wallMs());
      const failed: CertificateSigningRequestCondition = { type: "Failed", status: "True", reason: "SignerValidationFailure", message: refusal ?? "", lastUpdateTime: now, lastTransitionTime: now };
      status.conditions = [...(status.conditions ?? []), failed];
    }
    try {
      await this.ctx.client
        .resource<CertificateSigningRequest>("certificates.k8s.io", "v1", "certificatesigningrequests")
        .updateSubresource(key, "status", { ...csr, status });
      this.ctx.env.log.info(certificate !== null ? "signed certificate" : "refused to sign certificate", { csr: key, signer: csr.spec.signerName, ...(refusal === null ? {} : { reason: refusal }) });
    } catch (err) {
      if ((err as ApiError).reason === "NotFound") return;
      throw err;
    }
  }
}
