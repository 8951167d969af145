import { test } from "node:test";
import assert from "node:assert/strict";
import { duplicateFields } from "./duplicate_fields.js";

const cases = [
  { name: "no duplicates", text: '{"a":1,"b":{"c":[1,{"d":2}]}}', want: [] },
  { name: "a top-level duplicate", text: '{"kind":"ConfigMap","kind":"Secret"}', want: ["kind"] },
  { name: "a nested duplicate with its path", text: '{"metadata":{"name":"a","name":"b"}}', want: ["metadata.name"] },
  { name: "inside a list item", text: '{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}', want: ["spec.containers[1].name"] },
  { name: "escaped keys compare decoded", text: '{"a\\u0062":1,"ab":2}', want: ["ab"] },
  { name: "strings with braces and quotes are skipped", text: '{"x":"}{\\"","y":1}', want: [] },
];
for (const c of cases) test(`duplicateFields: ${c.name}`, () => assert.deepEqual(duplicateFields(c.text), c.want));
