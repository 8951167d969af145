/**
 * The syntax error Go's encoding/json reports for a body, so a malformed patch gets apiserver's 400 text
 * ("invalid character 'x' looking for beginning of value", "unexpected end of JSON input"). Go checks
 * the whole input before decoding, so a syntax error wins over any type error; it scans bytes, and
 * prints the offending byte as the rune of that value.
 */

/** encoding/json's maxNestingDepth: deeper input is refused, and it bounds our recursion. */
const MAX_NESTING_DEPTH = 10_000;

/** The message of Go's json.SyntaxError for `body`, or null when `body` is valid JSON. */
export function goJsonSyntaxError(body: string | Uint8Array): string | null {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  try {
    new Scanner(bytes).document();
    return null;
  } catch (err) {
    if (err instanceof SyntaxFault) return err.message;
    throw err;
  }
}

class SyntaxFault extends Error {
  override readonly name = "SyntaxFault";
}

/** quoteChar: `'x'`, with ' and " special-cased and others escaped as strconv.Quote escapes the rune. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  return `'${quoteRune(c)}'`;
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v", 0x5c: "\\\\" };

/** strconv.Quote's body for the rune U+00cc (Go widens the byte to a rune). */
function quoteRune(c: number): string {
  const short = SHORT_ESCAPES[c];
  if (short !== undefined) return short;
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, "0")}`;
  // U+0080–U+009F, NBSP and the soft hyphen are not printable for strconv.IsPrint.
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `\\u00${c.toString(16).padStart(2, "0")}`;
  return String.fromCharCode(c);
}

const EOF = -1;

class Scanner {
  #pos = 0;
  constructor(private readonly b: Uint8Array) {}

  /** Walks the input with an explicit stack of open containers, so depth costs no call frames. */
  document(): void {
    const open: ("object" | "array")[] = [];
    // Each round reads one value and what follows it; every round consumes input, so the input's length bounds them.
    for (;;) {
      this.#ws();
      const c = this.#peek();
      if (c === 0x7b || c === 0x5b) {
        this.#pos++;
        open.push(c === 0x7b ? "object" : "array");
        if (open.length > MAX_NESTING_DEPTH) throw new SyntaxFault("exceeded max depth");
        this.#ws();
        const close = c === 0x7b ? 0x7d : 0x5d;
        if (this.#peek() === close) {
          this.#pos++;
          open.pop();
        } else {
          if (c === 0x7b) this.#key();
          continue;
        }
      } else {
        this.#scalar();
      }
      // After a value: close containers, or find the next element / pair.
      for (;;) {
        this.#ws();
        const top = open[open.length - 1];
        if (top === undefined) {
          if (this.#peek() !== EOF) this.#invalid("after top-level value");
          return;
        }
        const n = this.#peek();
        if (n === (top === "object" ? 0x7d : 0x5d)) {
          this.#pos++;
          open.pop();
          continue;
        }
        if (n !== 0x2c) this.#invalid(top === "object" ? "after object key:value pair" : "after array element");
        this.#pos++;
        if (top === "object") {
          this.#ws();
          this.#key();
        }
        break;
      }
    }
  }

  /** `"key" :` of an object pair. */
  #key(): void {
    if (this.#peek() !== 0x22) this.#invalid("looking for beginning of object key string");
    this.#string();
    this.#ws();
    if (this.#peek() !== 0x3a) this.#invalid("after object key");
    this.#pos++;
  }

  #peek(): number {
    return this.#pos < this.b.length ? this.b[this.#pos]! : EOF;
  }

  /** The next byte; the end of input inside a value is Go's "unexpected end of JSON input". */
  #next(): number {
    const c = this.#peek();
    if (c === EOF) throw new SyntaxFault("unexpected end of JSON input");
    this.#pos++;
    return c;
  }

  #invalid(context: string, c: number = this.#peek()): never {
    if (c === EOF) throw new SyntaxFault("unexpected end of JSON input");
    throw new SyntaxFault(`invalid character ${quoteChar(c)} ${context}`);
  }

  #ws(): void {
    for (let c = this.#peek(); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = this.#peek()) this.#pos++;
  }

  #scalar(): void {
    const c = this.#peek();
    if (c === 0x22) return this.#string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.#number();
    if (c === 0x74) return this.#literal("true");
    if (c === 0x66) return this.#literal("false");
    if (c === 0x6e) return this.#literal("null");
    this.#invalid("looking for beginning of value");
  }

  #string(): void {
    this.#next(); // "
    // One byte or escape per round; bounded by the input's length.
    for (;;) {
      const c = this.#next();
      if (c === 0x22) return;
      if (c === 0x5c) {
        const e = this.#next();
        if (e === 0x75) {
          for (let i = 0; i < 4; i++) {
            const h = this.#next();
            const hex = (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66);
            if (!hex) this.#invalid("in \\u hexadecimal character escape", h);
          }
        } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) {
          this.#invalid("in string escape code", e);
        }
      } else if (c < 0x20) {
        this.#invalid("in string literal", c);
      }
    }
  }

  #digits(): void {
    for (let c = this.#peek(); c >= 0x30 && c <= 0x39; c = this.#peek()) this.#pos++;
  }

  #number(): void {
    if (this.#peek() === 0x2d) {
      this.#pos++;
      const c = this.#peek();
      if (!(c >= 0x30 && c <= 0x39)) this.#invalid("in numeric literal");
    }
    if (this.#next() !== 0x30) this.#digits();
    if (this.#peek() === 0x2e) {
      this.#pos++;
      const c = this.#peek();
      if (!(c >= 0x30 && c <= 0x39)) this.#invalid("after decimal point in numeric literal");
      this.#digits();
    }
    if (this.#peek() === 0x65 || this.#peek() === 0x45) {
      this.#pos++;
      if (this.#peek() === 0x2b || this.#peek() === 0x2d) this.#pos++;
      const c = this.#peek();
      if (!(c >= 0x30 && c <= 0x39)) this.#invalid("in exponent of numeric literal");
      this.#digits();
    }
  }

  #literal(word: "true" | "false" | "null"): void {
    this.#pos++;
    for (let i = 1; i < word.length; i++) {
      const want = word[i]!;
      const c = this.#next();
      if (c !== want.charCodeAt(0)) this.#invalid(`in literal ${word} (expecting '${want}')`, c);
    }
  }
}
