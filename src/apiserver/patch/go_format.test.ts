import { test } from "node:test";
import assert from "node:assert/strict";
import { goTypeName, goValue } from "./go_format.js";

const values: { name: string; v: unknown; want: string }[] = [
  { name: "a map prints with sorted keys and unquoted strings", v: { name: "web", image: "nginx" }, want: "map[image:nginx name:web]" },
  { name: "nested maps and lists print inside", v: { ports: [80, 443], hostPath: { path: "/x" } }, want: "map[hostPath:map[path:/x] ports:[80 443]]" },
  { name: "an empty map", v: {}, want: "map[]" },
  { name: "null is <nil>", v: { a: null }, want: "map[a:<nil>]" },
  { name: "booleans", v: [true, false], want: "[true false]" },
  { name: "a fraction", v: 1.5, want: "1.5" },
  { name: "a small float uses a two-digit exponent", v: 0.00001, want: "1e-05" },
  { name: "a float from 1e21 uses an exponent", v: 1.5e21, want: "1.5e+21" },
];

for (const c of values) {
  test(`goValue: ${c.name}`, () => assert.equal(goValue(c.v), c.want));
}

test("goTypeName: JSON values name the Go types json.Unmarshal produces", () => {
  assert.deepEqual(
    [{}, [], "s", true, 1, 1.5, null].map(goTypeName),
    ["map[string]interface {}", "[]interface {}", "string", "bool", "int64", "float64", "%!s(<nil>)"],
  );
});
