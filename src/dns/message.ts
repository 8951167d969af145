/**
 * The DNS wire format (RFC 1035 §4, EDNS0 from RFC 6891): messages decoded from and encoded to bytes, with
 * name compression on the way out (RFC 1035 §4.1.4) and pointer-safe decompression on the way in. Names are
 * absolute and end in a dot ("kubernetes.default.svc.cluster.local."), as miekg/dns (CoreDNS's codec) spells them;
 * bytes that are not printable, and '.' or '\' inside a label, are written as \DDD / \. escapes.
 *
 * Decoding never trusts the packet: every read is bounds-checked, pointers may only point backwards (so they
 * cannot loop) and a name may not exceed 255 octets. Anything wrong is a `DnsFormatError`, which the server
 * answers with FORMERR.
 */

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  AXFR: 252,
  ANY: 255,
} as const;

export const RCode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended (needs an OPT record): the EDNS version asked for is not supported. */
  BADVERS: 16,
} as const;

export const OpCode = { QUERY: 0 } as const;
export const CLASS_IN = 1;

/** The classic limit of a UDP answer without EDNS0 (RFC 1035 §2.3.4). */
export const UDP_PAYLOAD_BYTES_CLASSIC = 512;
/** The most a DNS message can be: TCP frames it with a 16-bit length. */
export const MESSAGE_BYTES_MAX = 65535;
const NAME_OCTETS_MAX = 255;
const LABEL_OCTETS_MAX = 63;
const HEADER_BYTES = 12;

/** The text form of an RR type, as CoreDNS labels its metrics ("A", "SRV"; others "TYPE99"). */
export function rrTypeName(type: number): string {
  for (const [name, value] of Object.entries(RRType)) if (value === type) return name;
  return `TYPE${type}`;
}
export function rcodeName(rcode: number): string {
  for (const [name, value] of Object.entries(RCode)) if (value === rcode) return name;
  return `RCODE${rcode}`;
}

export interface DnsHeader {
  readonly id: number;
  /** true: a response. */
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
}

export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface SoaData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}
export interface SrvData {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}
/** RDATA by type: A/AAAA `address`, NS/CNAME/PTR `target`, SOA, SRV, TXT `texts`, MX; anything else raw bytes. */
export type RData =
  | { readonly address: string }
  | { readonly target: string }
  | SoaData
  | SrvData
  | { readonly texts: readonly string[] }
  | { readonly preference: number; readonly exchange: string }
  | { readonly raw: Uint8Array };

export interface ResourceRecord {
  readonly name: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly data: RData;
}

export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}
/** The OPT pseudo-record (RFC 6891 §6.1), kept apart from the additional section. */
export interface Edns {
  /** The largest UDP payload the sender can take. */
  readonly udpPayloadBytes: number;
  readonly version: number;
  /** The DO bit. */
  readonly dnssecOk: boolean;
  readonly options: readonly EdnsOption[];
}

export interface DnsMessage {
  readonly header: DnsHeader;
  /** The full 12-bit RCODE: values above 15 keep their upper 8 bits in the OPT record. */
  readonly rcode: number;
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  /** Without the OPT record: that is `edns`. */
  readonly additionals: readonly ResourceRecord[];
  readonly edns: Edns | null;
}

/** A packet that does not parse: answered with FORMERR. */
export class DnsFormatError extends Error {
  override readonly name = "DnsFormatError";
}

/** Lower-cased, dot-terminated: how names are compared (DNS names are case-insensitive, RFC 4343). */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower : `${lower}.`;
}

// ---------------------------------------------------------------------------------------------- decoding

class Reader {
  constructor(readonly buf: Uint8Array, public pos: number) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new DnsFormatError(`Cannot read ${what}: the message ends at byte ${this.buf.length}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = ((this.buf[this.pos]! << 24) >>> 0) + (this.buf[this.pos + 1]! << 16) + (this.buf[this.pos + 2]! << 8) + this.buf[this.pos + 3]!;
    this.pos += 4;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    let octets = 1; // the root label
    // Pointers must point strictly before the label that holds them, so a chain of them always ends.
    let lowestPointerTarget = pos;
    for (;;) {
      if (pos >= this.buf.length) throw new DnsFormatError("Cannot read a name: it runs past the end of the message");
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsFormatError("Cannot read a name: a compression pointer is cut short");
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        if (target >= lowestPointerTarget) throw new DnsFormatError(`Cannot follow a compression pointer to byte ${target}: pointers must point backwards`);
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        lowestPointerTarget = target;
        pos = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new DnsFormatError(`Cannot read a name: label type 0x${(len & 0xc0).toString(16)} is not supported`);
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        break;
      }
      if (pos + 1 + len > this.buf.length) throw new DnsFormatError("Cannot read a name: a label runs past the end of the message");
      octets += len + 1;
      if (octets > NAME_OCTETS_MAX) throw new DnsFormatError(`Cannot read a name longer than ${NAME_OCTETS_MAX} octets`);
      labels.push(escapeLabel(this.buf.subarray(pos + 1, pos + 1 + len)));
      pos += 1 + len;
    }
    return labels.length === 0 ? "." : `${labels.join(".")}.`;
  }
}

function escapeLabel(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) {
    if (b === 0x2e || b === 0x5c) s += `\\${String.fromCharCode(b)}`;
    else if (b > 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\${b.toString().padStart(3, "0")}`;
  }
  return s;
}

function readQuestion(r: Reader): Question {
  const name = r.name();
  return { name, type: r.u16("a question's type"), class: r.u16("a question's class") };
}

function readIp(bytes: Uint8Array, _type: number): string {
  return bytesToIp(bytes);
}

/** The text form of 4 or 16 address bytes (IPv6 as RFC 5952 writes it). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

/** RFC 5952 text: the longest run (2+) of zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestAt < 0) return groups.join(":");
  return `${groups.slice(0, bestAt).join(":")}::${groups.slice(bestAt + bestLen).join(":")}`;
}

function readRecord(r: Reader): ResourceRecord & { rdataStart: number } {
  const name = r.name();
  const type = r.u16("a record's type");
  const klass = r.u16("a record's class");
  const ttl = r.u32("a record's TTL");
  const rdLength = r.u16("a record's RDLENGTH");
  r.need(rdLength, "a record's RDATA");
  const rdataStart = r.pos;
  const end = rdataStart + rdLength;
  // Names inside RDATA may point anywhere earlier in the message, so they read from the whole buffer.
  const sub = new Reader(r.buf.subarray(0, end), rdataStart);
  let data: RData;
  const wrongLength = (want: string): never => {
    throw new DnsFormatError(`Cannot read a ${rrTypeName(type)} record: RDLENGTH ${rdLength}, want ${want}`);
  };
  switch (type) {
    case RRType.A:
      if (rdLength !== 4) wrongLength("4");
      data = { address: readIp(sub.bytes(4, "an A address"), type) };
      break;
    case RRType.AAAA:
      if (rdLength !== 16) wrongLength("16");
      data = { address: readIp(sub.bytes(16, "an AAAA address"), type) };
      break;
    case RRType.NS:
    case RRType.CNAME:
    case RRType.PTR:
      data = { target: sub.name() };
      break;
    case RRType.SOA:
      data = {
        mname: sub.name(),
        rname: sub.name(),
        serial: sub.u32("SOA serial"),
        refresh: sub.u32("SOA refresh"),
        retry: sub.u32("SOA retry"),
        expire: sub.u32("SOA expire"),
        minimum: sub.u32("SOA minimum"),
      };
      break;
    case RRType.SRV:
      data = { priority: sub.u16("SRV priority"), weight: sub.u16("SRV weight"), port: sub.u16("SRV port"), target: sub.name() };
      break;
    case RRType.MX:
      data = { preference: sub.u16("MX preference"), exchange: sub.name() };
      break;
    case RRType.TXT: {
      const texts: string[] = [];
      while (sub.pos < end) {
        const n = sub.u8("a TXT string length");
        texts.push(new TextDecoder().decode(sub.bytes(n, "a TXT string")));
      }
      data = { texts };
      break;
    }
    default:
      data = { raw: sub.bytes(rdLength, "RDATA") };
  }
  if (sub.pos !== end) throw new DnsFormatError(`Cannot read a ${rrTypeName(type)} record: its RDATA is ${rdLength} bytes but its fields take ${sub.pos - rdataStart}`);
  r.pos = end;
  return { name, type, class: klass, ttl, data, rdataStart };
}

/** The message ID, if the packet is long enough to have one (so even a FORMERR can be matched to its query). */
export function peekId(packet: Uint8Array): number | null {
  return packet.length < 2 ? null : (packet[0]! << 8) | packet[1]!;
}

/** Decodes a whole message; throws `DnsFormatError` for anything malformed, including trailing bytes. */
export function decodeMessage(packet: Uint8Array): DnsMessage {
  if (packet.length < HEADER_BYTES) throw new DnsFormatError(`Cannot read a DNS header from ${packet.length} bytes: it takes ${HEADER_BYTES}`);
  if (packet.length > MESSAGE_BYTES_MAX) throw new DnsFormatError(`Cannot read a message of ${packet.length} bytes: the most is ${MESSAGE_BYTES_MAX}`);
  const r = new Reader(packet, 0);
  const id = r.u16("the ID");
  const flags = r.u16("the flags");
  const counts = [r.u16("QDCOUNT"), r.u16("ANCOUNT"), r.u16("NSCOUNT"), r.u16("ARCOUNT")] as const;
  const header: DnsHeader = {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
  };
  let rcode = flags & 0xf;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) questions.push(readQuestion(r));
  const sections: ResourceRecord[][] = [[], [], []];
  let edns: Edns | null = null;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const rr = readRecord(r);
      if (rr.type === RRType.OPT) {
        if (s !== 2) throw new DnsFormatError("Cannot accept an OPT record outside the additional section");
        if (edns !== null) throw new DnsFormatError("Cannot accept more than one OPT record (RFC 6891 §6.1.1)");
        if (rr.name !== ".") throw new DnsFormatError(`Cannot accept an OPT record owned by ${rr.name}: it must be the root`);
        edns = decodeEdns(rr, packet, rr.rdataStart);
        rcode |= ((rr.ttl >>> 24) & 0xff) << 4;
        continue;
      }
      const { rdataStart: _, ...plain } = rr;
      sections[s]!.push(plain);
    }
  }
  if (r.pos !== packet.length) throw new DnsFormatError(`Cannot accept ${packet.length - r.pos} bytes after the last record`);
  return { header, rcode, questions, answers: sections[0]!, authorities: sections[1]!, additionals: sections[2]!, edns };
}

function decodeEdns(rr: ResourceRecord, packet: Uint8Array, rdataStart: number): Edns {
  const raw = (rr.data as { raw: Uint8Array }).raw;
  const r = new Reader(packet.subarray(0, rdataStart + raw.length), rdataStart);
  const options: EdnsOption[] = [];
  while (r.pos < rdataStart + raw.length) {
    const code = r.u16("an EDNS option code");
    const len = r.u16("an EDNS option length");
    options.push({ code, data: r.bytes(len, "an EDNS option") });
  }
  return { udpPayloadBytes: rr.class, version: (rr.ttl >>> 16) & 0xff, dnssecOk: (rr.ttl & 0x8000) !== 0, options };
}

// ---------------------------------------------------------------------------------------------- encoding

/** Splits a presentation-form name into wire labels, honouring \. and \DDD escapes. */
export function nameToLabels(name: string): Uint8Array[] {
  if (name === "." || name === "") return [];
  const labels: Uint8Array[] = [];
  let cur: number[] = [];
  let octets = 1;
  const text = name.endsWith(".") && !name.endsWith("\\.") ? name.slice(0, -1) : name;
  const push = (): void => {
    if (cur.length === 0) throw new DnsFormatError(`Cannot encode name ${JSON.stringify(name)}: it has an empty label`);
    if (cur.length > LABEL_OCTETS_MAX) throw new DnsFormatError(`Cannot encode name ${JSON.stringify(name)}: a label is longer than ${LABEL_OCTETS_MAX} octets`);
    labels.push(Uint8Array.from(cur));
    octets += cur.length + 1;
    cur = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) {
      const rest = text.slice(i + 1, i + 4);
      if (/^\d{3}$/.test(rest)) {
        cur.push(Number(rest) & 0xff);
        i += 3;
      } else {
        cur.push(text.charCodeAt(i + 1));
        i += 1;
      }
    } else if (c === 0x2e) push();
    else if (c > 0xff) throw new DnsFormatError(`Cannot encode name ${JSON.stringify(name)}: it is not ASCII (use its punycode form)`);
    else cur.push(c);
  }
  push();
  if (octets > NAME_OCTETS_MAX) throw new DnsFormatError(`Cannot encode name ${JSON.stringify(name)}: it is longer than ${NAME_OCTETS_MAX} octets`);
  return labels;
}

class Writer {
  buf = new Uint8Array(512);
  pos = 0;
  /** Lower-cased suffix → its offset, for compression pointers (which can only reach the first 16 KiB). */
  readonly names = new Map<string, number>();
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = (v >> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  setU16(at: number, v: number): void {
    this.buf[at] = (v >> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }
  name(name: string, compress: boolean): void {
    const labels = nameToLabels(name);
    const keys = labels.map((_, i) => labels.slice(i).map((l) => String.fromCharCode(...l).toLowerCase()).join("."));
    for (let i = 0; i < labels.length; i++) {
      const at = compress ? this.names.get(keys[i]!) : undefined;
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.pos < 0x4000 && !this.names.has(keys[i]!)) this.names.set(keys[i]!, this.pos);
      this.u8(labels[i]!.length);
      this.bytes(labels[i]!);
    }
    this.u8(0);
  }
  /** Drops everything written after `pos`, and any compression targets that pointed there. */
  cut(pos: number): void {
    this.pos = pos;
    for (const [k, at] of this.names) if (at >= pos) this.names.delete(k);
  }
}

function writeIp(w: Writer, address: string, type: number): void {
  const bytes = ipToBytes(address);
  if (bytes === null || bytes.length !== (type === RRType.A ? 4 : 16)) throw new DnsFormatError(`Cannot encode ${JSON.stringify(address)} as ${rrTypeName(type)} data`);
  w.bytes(bytes);
}

/** The 4 or 16 bytes of an IP address in text form; null if it is not one. */
export function ipToBytes(address: string): Uint8Array | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    const parts = address.split(".").map(Number);
    return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : null;
  }
  if (!address.includes(":")) return null;
  let text = address;
  let tail: number[] = [];
  const v4 = /(\d{1,3}(\.\d{1,3}){3})$/.exec(text);
  if (v4 !== null) {
    const b = ipToBytes(v4[1]!);
    if (b === null) return null;
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    text = `${text.slice(0, v4.index)}0:0`; // placeholders, replaced below
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === "") return [];
    const gs = s.split(":");
    if (!gs.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
    return gs.map((g) => parseInt(g, 16));
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === null || rest === null) return null;
  const zeros = 8 - head.length - rest.length;
  if ((halves.length === 2 && zeros < 1) || (halves.length === 1 && zeros !== 0)) return null;
  const groups = [...head, ...new Array<number>(zeros).fill(0), ...rest];
  if (tail.length === 2) groups.splice(6, 2, ...tail);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

function writeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name, true);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl >>> 0);
  const lengthAt = w.pos;
  w.u16(0);
  const start = w.pos;
  const d = rr.data as Partial<SoaData & SrvData & { address: string; texts: readonly string[]; preference: number; exchange: string; raw: Uint8Array }>;
  if ("raw" in rr.data) w.bytes(d.raw!);
  else
    switch (rr.type) {
      case RRType.A:
      case RRType.AAAA:
        writeIp(w, d.address!, rr.type);
        break;
      case RRType.NS:
      case RRType.CNAME:
      case RRType.PTR:
        w.name(d.target!, true);
        break;
      case RRType.SOA:
        w.name(d.mname!, true);
        w.name(d.rname!, true);
        for (const v of [d.serial!, d.refresh!, d.retry!, d.expire!, d.minimum!]) w.u32(v >>> 0);
        break;
      case RRType.SRV:
        w.u16(d.priority!);
        w.u16(d.weight!);
        w.u16(d.port!);
        // RFC 2782: the target is not compressed (older resolvers do not expect pointers there).
        w.name(d.target!, false);
        break;
      case RRType.MX:
        w.u16(d.preference!);
        w.name(d.exchange!, true);
        break;
      case RRType.TXT:
        for (const t of d.texts!) {
          const b = new TextEncoder().encode(t);
          if (b.length > 255) throw new DnsFormatError("Cannot encode a TXT string longer than 255 bytes");
          w.u8(b.length);
          w.bytes(b);
        }
        break;
      default:
        throw new DnsFormatError(`Cannot encode ${rrTypeName(rr.type)} data that is not raw bytes`);
    }
  w.setU16(lengthAt, w.pos - start);
}

function writeOpt(w: Writer, edns: Edns, rcode: number): void {
  w.u8(0); // the root
  w.u16(RRType.OPT);
  w.u16(edns.udpPayloadBytes);
  w.u32((((rcode >> 4) & 0xff) << 24) | ((edns.version & 0xff) << 16) | (edns.dnssecOk ? 0x8000 : 0));
  w.u16(edns.options.reduce((n, o) => n + 4 + o.data.length, 0));
  for (const o of edns.options) {
    w.u16(o.code);
    w.u16(o.data.length);
    w.bytes(o.data);
  }
}

export interface EncodeOptions {
  /**
   * The most bytes the result may take (a UDP client's payload size). Records that do not fit are left
   * out; if any answer or authority record had to go, TC is set so the client retries over TCP
   * (RFC 2181 §9: missing additional records alone do not set it). The OPT record is always kept.
   */
  readonly maxBytes?: number;
}

/** Encodes a message, compressing names; the header counts are taken from the sections. */
export function encodeMessage(msg: DnsMessage, options: EncodeOptions = {}): Uint8Array {
  if (msg.rcode > 0xf && msg.edns === null) throw new DnsFormatError(`Cannot encode extended RCODE ${msg.rcode} without an OPT record`);
  const maxBytes = Math.min(options.maxBytes ?? MESSAGE_BYTES_MAX, MESSAGE_BYTES_MAX);
  const w = new Writer();
  const h = msg.header;
  let tc = h.tc;
  w.u16(h.id);
  w.u16(0); // flags, written last (TC may change)
  for (let i = 0; i < 4; i++) w.u16(0);
  for (const q of msg.questions) {
    w.name(q.name, true);
    w.u16(q.type);
    w.u16(q.class);
  }
  const optBytes = msg.edns === null ? 0 : 11 + msg.edns.options.reduce((n, o) => n + 4 + o.data.length, 0);
  if (w.pos + optBytes > maxBytes) throw new DnsFormatError(`Cannot fit the question in ${maxBytes} bytes`);
  const counts = [msg.questions.length, 0, 0, 0];
  const sections = [msg.answers, msg.authorities, msg.additionals];
  let full = false;
  for (let s = 0; s < 3 && !full; s++) {
    for (const rr of sections[s]!) {
      const before = w.pos;
      writeRecord(w, rr);
      if (w.pos + optBytes > maxBytes) {
        w.cut(before);
        full = true;
        if (s < 2) tc = true;
        break;
      }
      counts[s + 1]!++;
    }
  }
  if (msg.edns !== null) {
    writeOpt(w, msg.edns, msg.rcode);
    counts[3]!++;
  }
  const flags =
    (h.qr ? 0x8000 : 0) |
    ((h.opcode & 0xf) << 11) |
    (h.aa ? 0x0400 : 0) |
    (tc ? 0x0200 : 0) |
    (h.rd ? 0x0100 : 0) |
    (h.ra ? 0x0080 : 0) |
    (h.ad ? 0x0020 : 0) |
    (h.cd ? 0x0010 : 0) |
    (msg.rcode & 0xf);
  w.setU16(2, flags);
  counts.forEach((c, i) => w.setU16(4 + i * 2, c));
  return w.buf.slice(0, w.pos);
}

/** A query, as a client sends it (tests and the forwarder's health checks). */
export function newQuery(id: number, name: string, type: number, options: { rd?: boolean; edns?: Edns | null } = {}): DnsMessage {
  return {
    header: { id, qr: false, opcode: OpCode.QUERY, aa: false, tc: false, rd: options.rd ?? true, ra: false, ad: false, cd: false },
    rcode: RCode.NOERROR,
    questions: [{ name, type, class: CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: options.edns ?? null,
  };
}
