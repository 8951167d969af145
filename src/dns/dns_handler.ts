/**
 * One query in, one answer out: the decisions of the DNS server without its sockets. The cluster's zones are
 * answered from the catalog (authoritative, AA set); other names go to the forwarder; what cannot be
 * parsed is FORMERR and never a crash. The caller gives the payload limit (512 bytes, or the client's EDNS0
 * size, for UDP; 64 KiB for TCP): an answer that does not fit is cut and marked TC.
 */
import {
  CLASS_IN,
  DnsFormatError,
  MESSAGE_BYTES_MAX,
  OpCode,
  RCode,
  UDP_PAYLOAD_BYTES_CLASSIC,
  RRType,
  canonicalName,
  decodeMessage,
  encodeMessage,
  newQuery,
  type DnsMessage,
  type Edns,
  type ResourceRecord,
} from "./message.js";
import { answerClusterQuestion, type KubernetesZoneOptions } from "./kubernetes_zone.js";
import type { ServiceCatalog } from "./service_catalog.js";
import { ForwardError } from "./forwarder.js";

/** The largest UDP payload we advertise and send (CoreDNS's default bufsize is 1232 since 1.8; we allow the client's up to this). */
export const UDP_PAYLOAD_BYTES_MAX = 4096;

export type Proto = "udp" | "tcp";

export interface DnsHandlerDeps {
  readonly catalog: ServiceCatalog;
  readonly zone: () => KubernetesZoneOptions;
  /**
   * False until the caches have their first list: until then the cluster's names are SERVFAIL, not
   * NXDOMAIN, so clients do not cache a denial of names that exist.
   */
  readonly synced: () => boolean;
  /** null: no upstreams; other names are SERVFAIL. */
  readonly forward: ((query: Uint8Array, proto: Proto) => Promise<Uint8Array>) | null;
}

export interface HandledQuery {
  /** null: nothing to send (the packet was too short to answer, or was itself a response). */
  readonly response: Uint8Array | null;
  readonly rcode: number;
  /** The question's type (0 when there was none), for metrics. */
  readonly qtype: number;
  /** Which part answered: "kubernetes", "forward", or "" for errors of the server itself. */
  readonly plugin: string;
}

/** The most a UDP answer to this request may take. */
export function udpPayloadLimit(edns: Edns | null): number {
  if (edns === null) return UDP_PAYLOAD_BYTES_CLASSIC;
  return Math.max(UDP_PAYLOAD_BYTES_CLASSIC, Math.min(edns.udpPayloadBytes, UDP_PAYLOAD_BYTES_MAX));
}

function reply(
  req: DnsMessage | { id: number; opcode: number; rd: boolean },
  rcode: number,
  parts: { aa?: boolean; answers?: readonly ResourceRecord[]; authorities?: readonly ResourceRecord[]; additionals?: readonly ResourceRecord[]; ra: boolean },
): DnsMessage {
  const full = "header" in req;
  const h = full ? req.header : req;
  const reqEdns = full ? req.edns : null;
  return {
    header: { id: h.id, qr: true, opcode: h.opcode, aa: parts.aa ?? false, tc: false, rd: h.rd, ra: parts.ra, ad: false, cd: full ? req.header.cd : false },
    rcode,
    questions: full ? req.questions : [],
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals: parts.additionals ?? [],
    // RFC 6891 §7: answer with OPT only when asked with it; advertise what we accept.
    edns: reqEdns === null ? (rcode > 0xf ? { udpPayloadBytes: UDP_PAYLOAD_BYTES_MAX, version: 0, dnssecOk: false, options: [] } : null) : { udpPayloadBytes: UDP_PAYLOAD_BYTES_MAX, version: 0, dnssecOk: reqEdns.dnssecOk, options: [] },
  };
}

export async function handleDnsQuery(deps: DnsHandlerDeps, packet: Uint8Array, proto: Proto): Promise<HandledQuery> {
  if (packet.length < 12) return { response: null, rcode: RCode.FORMERR, qtype: 0, plugin: "" };
  const ra = deps.forward !== null;
  let req: DnsMessage;
  try {
    req = decodeMessage(packet);
  } catch (err) {
    if (!(err instanceof DnsFormatError)) throw err;
    if ((packet[2]! & 0x80) !== 0) return { response: null, rcode: RCode.FORMERR, qtype: 0, plugin: "" };
    const id = (packet[0]! << 8) | packet[1]!;
    const msg = reply({ id, opcode: (packet[2]! >> 3) & 0xf, rd: (packet[2]! & 1) !== 0 }, RCode.FORMERR, { ra });
    return { response: encodeMessage(msg), rcode: RCode.FORMERR, qtype: 0, plugin: "" };
  }
  // A response sent to us is never answered: two servers would echo each other forever.
  if (req.header.qr) return { response: null, rcode: RCode.FORMERR, qtype: 0, plugin: "" };
  const limit = proto === "udp" ? udpPayloadLimit(req.edns) : MESSAGE_BYTES_MAX;
  const send = (msg: DnsMessage, plugin: string): HandledQuery => ({ response: encodeMessage(msg, { maxBytes: limit }), rcode: msg.rcode, qtype: req.questions[0]?.type ?? 0, plugin });

  if (req.header.opcode !== OpCode.QUERY) return send(reply(req, RCode.NOTIMP, { ra }), "");
  if (req.questions.length !== 1) return send(reply(req, RCode.FORMERR, { ra }), "");
  if (req.edns !== null && req.edns.version > 0) return send(reply(req, RCode.BADVERS, { ra }), "");
  const q = req.questions[0]!;

  const local = q.class === CLASS_IN || q.class === 255 ? answerClusterQuestion(deps.catalog, q, deps.zone()) : null;
  if (local !== null) {
    if (!deps.synced()) return send(reply(req, RCode.SERVFAIL, { ra }), "kubernetes");
    const chased = await chaseCname(deps, req, q.type, proto, local.answers);
    if (chased !== null) return send(reply(req, chased.rcode, { aa: true, ra, answers: chased.answers, authorities: chased.authorities }), "kubernetes");
    return send(reply(req, local.rcode, { aa: true, ra, answers: local.answers, authorities: local.authorities, additionals: local.additionals }), "kubernetes");
  }
  if (deps.forward === null) return send(reply(req, RCode.SERVFAIL, { ra }), "");
  let answer: Uint8Array;
  try {
    answer = await deps.forward(packet, proto);
  } catch (err) {
    if (!(err instanceof ForwardError)) throw err;
    return send(reply(req, err.reason === "max-concurrent" ? RCode.REFUSED : RCode.SERVFAIL, { ra }), "forward");
  }
  let upstream: DnsMessage;
  try {
    upstream = decodeMessage(answer);
  } catch {
    return send(reply(req, RCode.SERVFAIL, { ra }), "forward");
  }
  // The upstream honoured the client's size, so its bytes go back untouched (EDNS options and all) unless
  // they still do not fit, e.g. a client without EDNS behind an upstream that ignores the limit.
  if (answer.length <= limit) return { response: answer, rcode: upstream.rcode, qtype: q.type, plugin: "forward" };
  return send({ ...upstream, header: { ...upstream.header, id: req.header.id } }, "forward");
}

/** How many CNAMEs an answer follows (ExternalName → ExternalName → …) before it stops. */
const CNAME_HOPS_MAX = 8;

/**
 * An ExternalName Service's CNAME, followed to the records of the asked type as the spec's example shows
 * (`foo… CNAME www.example.com.` then `www.example.com. A 192.0.2.53`): in-zone targets from the catalog,
 * others through the forwarder. The RCODE is the last name's (RFC 6604). null: nothing to follow.
 */
async function chaseCname(deps: DnsHandlerDeps, req: DnsMessage, qtype: number, proto: Proto, first: readonly ResourceRecord[]): Promise<{ rcode: number; answers: ResourceRecord[]; authorities: readonly ResourceRecord[] } | null> {
  if (qtype === RRType.CNAME || qtype === RRType.ANY) return null;
  const answers = [...first];
  let rcode: number = RCode.NOERROR;
  let authorities: readonly ResourceRecord[] = [];
  const seen = new Set<string>();
  for (let hop = 0; hop < CNAME_HOPS_MAX; hop++) {
    const last = answers[answers.length - 1];
    if (last === undefined || last.type !== RRType.CNAME || answers.some((r) => r.type === qtype)) break;
    const target = (last.data as { target: string }).target;
    if (seen.has(canonicalName(target))) break; // a loop of ExternalNames
    seen.add(canonicalName(target));
    const inner = answerClusterQuestion(deps.catalog, { name: target, type: qtype, class: CLASS_IN }, deps.zone());
    if (inner !== null) {
      answers.push(...inner.answers);
      rcode = inner.rcode;
      authorities = inner.authorities;
      continue;
    }
    if (deps.forward === null) break;
    try {
      const upstream = decodeMessage(await deps.forward(encodeMessage(newQuery(req.header.id, target, qtype, { rd: true, edns: req.edns })), proto));
      answers.push(...upstream.answers);
      rcode = upstream.rcode;
      authorities = upstream.authorities;
    } catch (err) {
      // The CNAME alone is still a correct answer; the client may resolve the target itself.
      if (!(err instanceof ForwardError) && !(err instanceof DnsFormatError)) throw err;
    }
    break;
  }
  return answers.length === first.length ? null : { rcode, answers, authorities };
}
