/**
 * ServiceAccount tokens (upstream's TokenRequest API and service account authenticator): JWTs signed
 * with the cluster's service-account key, with upstream's claims — `iss`, `sub`
 * (`system:serviceaccount:<ns>:<name>`), `aud`, `exp`/`iat`/`nbf`, and the private `kubernetes.io`
 * claim naming the namespace, the ServiceAccount (and the pod a token is bound to) with their uids.
 * A token is valid while it has not expired, names our audience, and the objects it names still exist
 * with the same uids — deleting the ServiceAccount (or the bound pod) revokes its tokens.
 */
import { formatTime } from "../../api/time.js";
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { SignJWT, jwtVerify } from "jose";
import type { UserInfo } from "../auth/authenticator.js";

export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
/** upstream: a TokenRequest may not ask for less than 10 minutes. */
export const TOKEN_EXPIRATION_MIN_S = 600;
export const TOKEN_EXPIRATION_DEFAULT_S = 3600;
/** upstream's --service-account-max-token-expiration is unset (no cap) by default; we cap at a day. */
export const TOKEN_EXPIRATION_MAX_S = 86_400;

export interface BoundObject {
  readonly kind: "Pod" | "Secret";
  readonly name: string;
  readonly uid: string;
}

export interface TokenSubject {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly boundObject?: BoundObject;
}

export interface IssuedToken {
  readonly token: string;
  readonly expirationTimestamp: string;
}

/** Checks that what a token names still exists with the same uid. */
export interface TokenReferents {
  serviceAccountUid(namespace: string, name: string): Promise<string | null>;
  podUid(namespace: string, name: string): Promise<string | null>;
}

const ALGORITHM = "ES256";

export class ServiceAccountTokens {
  readonly #privateKey: ReturnType<typeof createPrivateKey>;
  readonly #publicKey: ReturnType<typeof createPublicKey>;
  readonly #nowS: () => number;

  private constructor(privatePem: string, nowS: () => number) {
    this.#privateKey = createPrivateKey(privatePem);
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#nowS = nowS;
  }

  /** Loads `<pkiDir>/sa.key`, creating an EC P-256 key on first start (kubeadm's sa.key/sa.pub). */
  static async open(pkiDir: string, nowS: () => number = () => Math.floor(Date.now() / 1000)): Promise<ServiceAccountTokens> {
    const keyPath = path.join(pkiDir, "sa.key");
    let pem: string;
    try {
      pem = await fs.readFile(keyPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
      pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
      await fs.mkdir(pkiDir, { recursive: true, mode: 0o700 });
      await fs.writeFile(keyPath, pem, { mode: 0o600 });
      await fs.writeFile(path.join(pkiDir, "sa.pub"), pair.publicKey.export({ type: "spki", format: "pem" }).toString(), { mode: 0o644 });
    }
    return new ServiceAccountTokens(pem, nowS);
  }

  async issue(subject: TokenSubject, options: { audiences?: readonly string[]; expirationSeconds?: number } = {}): Promise<IssuedToken> {
    const now = this.#nowS();
    const lifetime = options.expirationSeconds ?? TOKEN_EXPIRATION_DEFAULT_S;
    const exp = now + Math.min(lifetime, TOKEN_EXPIRATION_MAX_S);
    const claims: Record<string, unknown> = {
      "kubernetes.io": {
        namespace: subject.namespace,
        serviceaccount: { name: subject.name, uid: subject.uid },
        ...(subject.boundObject?.kind === "Pod" ? { pod: { name: subject.boundObject.name, uid: subject.boundObject.uid } } : {}),
        ...(subject.boundObject?.kind === "Secret" ? { secret: { name: subject.boundObject.name, uid: subject.boundObject.uid } } : {}),
      },
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: "tk8s-sa" })
      .setIssuer(SERVICE_ACCOUNT_ISSUER)
      .setSubject(`system:serviceaccount:${subject.namespace}:${subject.name}`)
      .setAudience([...(options.audiences?.length ? options.audiences : [SERVICE_ACCOUNT_ISSUER])])
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.#privateKey);
    return { token, expirationTimestamp: formatTime(exp * 1000) };
  }

  /** The user a token authenticates as, or null when it is not a valid token of ours for the API. */
  async authenticate(token: string, referents: TokenReferents): Promise<UserInfo | null> {
    let payload: Record<string, any>;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, {
        issuer: SERVICE_ACCOUNT_ISSUER,
        audience: SERVICE_ACCOUNT_ISSUER,
        algorithms: [ALGORITHM],
        currentDate: new Date(this.#nowS() * 1000),
      }));
    } catch {
      return null;
    }
    const k = payload["kubernetes.io"];
    const ns = k?.namespace;
    const sa = k?.serviceaccount;
    if (typeof ns !== "string" || typeof sa?.name !== "string" || typeof sa?.uid !== "string") return null;
    if ((await referents.serviceAccountUid(ns, sa.name)) !== sa.uid) return null;
    if (k.pod !== undefined && (await referents.podUid(ns, k.pod.name)) !== k.pod.uid) return null;
    return {
      name: `system:serviceaccount:${ns}:${sa.name}`,
      uid: sa.uid,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
    };
  }
}
