import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../api/status.js";
import { fromLabelSelectorObject, matchesLabels, parseLabelSelector } from "./label_selector.js";

const cases: { name: string; sel: string; labels: Record<string, string>; want: boolean }[] = [
  { name: "equality matches the value", sel: "app=web", labels: { app: "web" }, want: true },
  { name: "double equals is equality", sel: "app==web", labels: { app: "db" }, want: false },
  { name: "inequality matches a missing key", sel: "app!=web", labels: {}, want: true },
  { name: "set membership", sel: "env in (prod, staging)", labels: { env: "staging" }, want: true },
  { name: "notin excludes listed values", sel: "env notin (prod)", labels: { env: "prod" }, want: false },
  { name: "existence", sel: "track", labels: { track: "" }, want: true },
  { name: "non-existence", sel: "!canary", labels: { canary: "1" }, want: false },
  { name: "all requirements must hold", sel: "app=web,tier!=db,!canary", labels: { app: "web", tier: "fe" }, want: true },
  { name: "gt compares integers", sel: "rank>3", labels: { rank: "10" }, want: true },
  { name: "empty selector matches everything", sel: "", labels: {}, want: true },
];
for (const c of cases) test(`label selector: ${c.name}`, () => assert.equal(matchesLabels(parseLabelSelector(c.sel), c.labels), c.want));

for (const bad of ["a in b", "=x", "a in (x", "!a=b", "a > x"]) {
  test(`label selector: "${bad}" is a 400 parse error`, () => {
    assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400 && /unable to parse requirement/.test(e.message));
  });
}

test("label selector: a metav1.LabelSelector object becomes the same requirements", () => {
  const sel = fromLabelSelectorObject({ matchLabels: { app: "web" }, matchExpressions: [{ key: "env", operator: "In", values: ["a", "b"] }, { key: "x", operator: "DoesNotExist" }] });
  assert.equal(matchesLabels(sel, { app: "web", env: "b" }), true);
  assert.equal(matchesLabels(sel, { app: "web", env: "b", x: "1" }), false);
});
