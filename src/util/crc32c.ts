/**
 * CRC-32C (Castagnoli), the checksum etcd's WAL uses. Table-driven; `update` continues a running CRC so
 * records can chain their checksum over every earlier record, as etcd's WAL does.
 */
const POLY = 0x82f63b78;
const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256 * 8);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[i] = c >>> 0;
  }
  // Slicing-by-8 tables: each row advances the CRC by one more byte of zeros.
  for (let i = 0; i < 256; i++) {
    let c = table[i]!;
    for (let t = 1; t < 8; t++) {
      c = table[c & 0xff]! ^ (c >>> 8);
      table[t * 256 + i] = c >>> 0;
    }
  }
  return table;
}

/** Continues `crc` (0 for a fresh checksum) over `data`. */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  let i = 0;
  const n = data.length;
  while (n - i >= 8) {
    const lo = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      TABLE[7 * 256 + (lo & 0xff)]! ^
      TABLE[6 * 256 + ((lo >>> 8) & 0xff)]! ^
      TABLE[5 * 256 + ((lo >>> 16) & 0xff)]! ^
      TABLE[4 * 256 + (lo >>> 24)]! ^
      TABLE[3 * 256 + data[i + 4]!]! ^
      TABLE[2 * 256 + data[i + 5]!]! ^
      TABLE[1 * 256 + data[i + 6]!]! ^
      TABLE[data[i + 7]!]!;
    i += 8;
  }
  for (; i < n; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `data`. */
export function crc32c(data: Uint8Array): number {
  return crc32cUpdate(0, data);
}
