/**
 * Validation of certificates.k8s.io/v1 CertificateSigningRequest, following Kubernetes 1.32: the
 * request must be a PEM `CERTIFICATE REQUEST`, the signer a `domain/path` name, usages known and
 * unique, a requested duration at least ten minutes; Approved and Denied exclude each other and a
 * certificate may only be issued to an approved request. The spec is immutable (the strategy keeps
 * the stored one), so an update checks metadata and status only.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { type FieldError, child, duplicate, index, invalid, notSupported, required } from "./field_errors.js";
import { isDNS1123Subdomain, nameIsDNSSubdomain, objectMeta, validateObjectMeta, validateObjectMetaUpdate } from "./name_validation.js";
import { arr, obj, present, str, type Obj } from "./json_access.js";

/** Every key usage a CSR may ask for (upstream's KeyUsage constants). */
export const KEY_USAGES = [
  "signing",
  "digital signature",
  "content commitment",
  "key encipherment",
  "key agreement",
  "data encipherment",
  "cert sign",
  "crl sign",
  "encipher only",
  "decipher only",
  "any",
  "server auth",
  "client auth",
  "code signing",
  "email protection",
  "s/mime",
  "ipsec end system",
  "ipsec tunnel",
  "ipsec user",
  "timestamping",
  "ocsp signing",
  "microsoft sgc",
  "netscape sgc",
] as const;

/** Upstream's minimum `spec.expirationSeconds`. */
export const CSR_EXPIRATION_SECONDS_MIN = 600;
const SIGNER_PATH_MAX = 253;

/** The PEM request decoded to DER, or the reason it is not one (upstream's ParseCSR messages). */
export function parseCsrPem(request: string): { der: ArrayBuffer } | { error: string } {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(request);
  if (m === null) return { error: "PEM block type must be CERTIFICATE REQUEST" };
  if (m[1] !== "CERTIFICATE REQUEST" && m[1] !== "NEW CERTIFICATE REQUEST") return { error: "PEM block type must be CERTIFICATE REQUEST" };
  const der = Buffer.from(m[2]!.replace(/\s+/g, ""), "base64");
  try {
    new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    return { error: `asn1: structure error: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { der: der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength) };
}

/** `example.com/signer-name`: a DNS subdomain, a slash, and a path of at most 253 characters. */
function validateSignerName(signerName: string, field: string): FieldError[] {
  if (signerName === "") return [required(field, "")];
  const slash = signerName.indexOf("/");
  if (slash < 0) return [invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const domain = signerName.slice(0, slash);
  const path = signerName.slice(slash + 1);
  const errs: FieldError[] = [];
  if (path === "") errs.push(invalid(field, signerName, "validating path: must be a non-empty string"));
  else if (path.length > SIGNER_PATH_MAX) errs.push(invalid(field, signerName, `validating path: must be no more than ${SIGNER_PATH_MAX} characters`));
  for (const msg of isDNS1123Subdomain(domain)) errs.push(invalid(field, signerName, `validating domain component: ${msg}`));
  return errs;
}

function validateSpec(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const request = Buffer.from(str(spec["request"]), "base64").toString("latin1");
  const parsed = parseCsrPem(request);
  if ("error" in parsed) errs.push(invalid("spec.request", "<request>", parsed.error));
  const usages = arr(spec["usages"]).map((u) => str(u));
  if (usages.length === 0) errs.push(required("spec.usages", ""));
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (!(KEY_USAGES as readonly string[]).includes(u)) errs.push(notSupported(index("spec.usages", i), u, KEY_USAGES));
    if (seen.has(u)) errs.push(duplicate(index("spec.usages", i), u));
    seen.add(u);
  });
  errs.push(...validateSignerName(str(spec["signerName"]), "spec.signerName"));
  if (present(spec["expirationSeconds"])) {
    const seconds = Number(spec["expirationSeconds"]);
    if (seconds < CSR_EXPIRATION_SECONDS_MIN) {
      errs.push(invalid("spec.expirationSeconds", seconds, `may not specify a duration less than ${CSR_EXPIRATION_SECONDS_MIN} seconds (10 minutes)`));
    }
  }
  return errs;
}

/** Conditions and certificate: upstream's validateConditions and validateCertificate. */
export function validateCsrStatus(csr: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const status = obj(csr["status"]);
  const field = "status.conditions";
  const seenTypes = new Set<string>();
  let approved = false;
  let denied = false;
  arr(status["conditions"]).forEach((c, i) => {
    const cond = obj(c);
    const type = str(cond["type"]);
    const p = index(field, i);
    if (type === "") errs.push(required(child(p, "type"), ""));
    if (["Approved", "Denied", "Failed"].includes(type)) {
      if (seenTypes.has(type)) errs.push(duplicate(child(p, "type"), type));
      seenTypes.add(type);
      if (type !== "Failed" && str(cond["status"]) !== "True") errs.push(notSupported(child(p, "status"), str(cond["status"]), ["True"]));
    }
    if (type === "Approved") approved = true;
    if (type === "Denied") denied = true;
  });
  if (approved && denied) errs.push(invalid(field, "<conditions>", "Approved and Denied conditions are mutually exclusive"));
  const certificate = str(status["certificate"]);
  if (certificate !== "") {
    const pem = Buffer.from(certificate, "base64").toString("latin1");
    if (!/-----BEGIN CERTIFICATE-----/.test(pem)) errs.push(invalid("status.certificate", "<certificate data>", "must contain at least one CERTIFICATE PEM block"));
    if (!approved) errs.push(invalid("status.certificate", "<certificate data>", "certificate may only be set on an approved request"));
    if (denied) errs.push(invalid("status.certificate", "<certificate data>", "certificate issued for a denied request"));
  }
  return errs;
}

export function validateCertificateSigningRequest(csr: Obj): FieldError[] {
  return [...validateObjectMeta(objectMeta(csr), false, nameIsDNSSubdomain), ...validateSpec(obj(csr["spec"])), ...validateCsrStatus(csr)];
}

export function validateCertificateSigningRequestUpdate(csr: Obj, old: Obj): FieldError[] {
  return [...validateObjectMetaUpdate(objectMeta(csr), objectMeta(old)), ...validateCsrStatus(csr)];
}
