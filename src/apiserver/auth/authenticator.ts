/**
 * Who is asking: an x509 client certificate signed by the cluster CA (CN = user, O = groups, as
 * upstream), or a bearer token from the static token file (`--token-auth-file`, upstream's CSV:
 * `token,user,uid,"group1,group2"`). Everything else is anonymous, which the server refuses with 401.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { readFileSync } from "node:fs";

export interface UserInfo {
  readonly name: string;
  readonly uid: string;
  readonly groups: readonly string[];
}

export type TokenTable = ReadonlyMap<string, UserInfo>;

/** Parses a token file; throws with the line number on a malformed line. */
export function parseTokenFile(text: string): TokenTable {
  const out = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const fields = splitCsv(line);
    if (fields.length < 3 || fields[0] === "" || fields[1] === "") throw new Error(`Cannot read token file: line ${i + 1} needs token,user,uid[,"groups"]`);
    const groups = fields[3] === undefined || fields[3] === "" ? [] : fields[3].split(",").map((g) => g.trim()).filter((g) => g !== "");
    out.set(fields[0]!, { name: fields[1]!, uid: fields[2]!, groups: [...groups, "system:authenticated"] });
  });
  return out;
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      if (quoted && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === "," && !quoted) {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

export function loadTokenFile(path: string): TokenTable {
  return parseTokenFile(readFileSync(path, "utf8"));
}

export class Authenticator {
  readonly #tokens: Map<string, UserInfo>;
  readonly #byConnection = new WeakMap<object, UserInfo | null>();
  readonly #tokenAuthenticators: ((token: string) => Promise<UserInfo | null>)[] = [];

  constructor(tokens: TokenTable = new Map()) {
    this.#tokens = new Map(tokens);
  }

  /** Adds a token (the server's own loopback client, tests). */
  addToken(token: string, user: UserInfo): void {
    this.#tokens.set(token, user);
  }

  /** Adds a verifier of bearer tokens not in the static table (ServiceAccount JWTs). */
  addTokenAuthenticator(verify: (token: string) => Promise<UserInfo | null>): void {
    this.#tokenAuthenticators.push(verify);
  }

  /** The user a request authenticates as: client certificate, static token, then the token verifiers. */
  async authenticate(req: IncomingMessage): Promise<UserInfo | null> {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (m === null) return null;
      const token = m[1]!;
      const known = this.#tokens.get(token);
      if (known !== undefined) return known;
      for (const verify of this.#tokenAuthenticators) {
        const user = await verify(token);
        if (user !== null) return user;
      }
      return null;
    }
    return this.#certificateUser(req);
  }

  #certificateUser(req: IncomingMessage): UserInfo | null {
    const socket = req.socket as TLSSocket;
    // A connection's certificate never changes: read it once (getPeerCertificate parses it every call).
    if (this.#byConnection.has(socket)) return this.#byConnection.get(socket)!;
    const user = this.#fromCertificate(socket);
    this.#byConnection.set(socket, user);
    return user;
  }

  #fromCertificate(socket: TLSSocket): UserInfo | null {
    if (typeof socket.getPeerCertificate === "function" && socket.authorized) {
      const cert = socket.getPeerCertificate();
      if (cert !== null && cert.subject !== undefined) {
        const cn = cert.subject.CN;
        const o = cert.subject.O;
        const name = Array.isArray(cn) ? cn[0] : cn;
        if (name === undefined || name === "") return null;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        return { name, uid: "", groups: [...groups, "system:authenticated"] };
      }
    }
    return null;
  }
}
