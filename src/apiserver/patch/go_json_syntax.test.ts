import { test } from "node:test";
import assert from "node:assert/strict";
import { goJsonSyntaxError } from "./go_json_syntax.js";

const cases: { name: string; body: string; want: string | null }[] = [
  { name: "valid JSON has no error", body: ' {"a": [1, -2.5e+3, true, null, "x\\u00e9"]} ', want: null },
  { name: "an empty body ends early", body: "", want: "unexpected end of JSON input" },
  { name: "an unclosed object ends early", body: '{"a": 1', want: "unexpected end of JSON input" },
  { name: "a bare word is not a value", body: "x", want: "invalid character 'x' looking for beginning of value" },
  { name: "a single-quoted key", body: "{'a': 1}", want: "invalid character '\\'' looking for beginning of object key string" },
  { name: "a missing colon", body: '{"a" 1}', want: "invalid character '1' after object key" },
  { name: "a missing comma between pairs", body: '{"a": 1 "b": 2}', want: "invalid character '\"' after object key:value pair" },
  { name: "a trailing comma in a list", body: "[1,]", want: "invalid character ']' looking for beginning of value" },
  { name: "a missing comma in a list", body: "[1 2]", want: "invalid character '2' after array element" },
  { name: "text after the value", body: "{} {}", want: "invalid character '{' after top-level value" },
  { name: "a raw newline in a string", body: '"a\nb"', want: "invalid character '\\n' in string literal" },
  { name: "a bad escape", body: '"\\x"', want: "invalid character 'x' in string escape code" },
  { name: "a bad unicode escape", body: '"\\u12g4"', want: "invalid character 'g' in \\u hexadecimal character escape" },
  { name: "a minus without digits", body: "-a", want: "invalid character 'a' in numeric literal" },
  { name: "a leading zero", body: "[01]", want: "invalid character '1' after array element" },
  { name: "a decimal point without digits", body: "1.e5", want: "invalid character 'e' after decimal point in numeric literal" },
  { name: "an exponent without digits", body: "1e+", want: "unexpected end of JSON input" },
  { name: "a misspelt literal", body: "[tru]", want: "invalid character ']' in literal true (expecting 'e')" },
];

for (const c of cases) {
  test(`goJsonSyntaxError: ${c.name}`, () => assert.equal(goJsonSyntaxError(c.body), c.want));
}

test("goJsonSyntaxError: nesting deeper than encoding/json allows is refused", () => {
  assert.equal(goJsonSyntaxError("[".repeat(10_001)), "exceeded max depth");
  assert.equal(goJsonSyntaxError("[".repeat(10_000)), "unexpected end of JSON input");
});
