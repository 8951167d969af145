/**
 * Duplicate keys in a JSON object, which JSON.parse silently resolves to the last one. Upstream's strict
 * decoder reports them (`strict decoding error: duplicate field "metadata.name"`), so Strict field
 * validation needs them found; paths are spelled as that decoder spells them.
 */

/** Bounds the nesting a scan follows (bodies are already bounded to 3 MiB). */
const DEPTH_MAX = 512;

/** Paths of keys that appear twice in the same object, in document order; `text` must be valid JSON. */
export function duplicateFields(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t")) i++;
  };
  const str = (): string => {
    // i at the opening quote; JSON.parse on the slice decodes escapes exactly.
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth: number): void => {
    if (depth > DEPTH_MAX) return;
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = str();
        const child = path === "" ? key : `${path}.${key}`;
        if (seen.has(key)) out.push(child);
        seen.add(key);
        ws();
        i++; // ':'
        value(child, depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        i++; // '}'
        return;
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`, depth + 1);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        i++; // ']'
        return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !",}] \n\r\t".includes(text[i]!)) i++;
    }
  };
  value("", 0);
  return out;
}
