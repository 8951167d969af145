import { test } from "node:test";
import assert from "node:assert/strict";
import { everything, parseSelector, selectorFromLabelSelector, selectorFromSet } from "./label_selector.js";

const labels = { app: "web", tier: "front", env: "prod" };

const cases = [
  { name: "equality matches", sel: "app=web", want: true },
  { name: "double equals is equality", sel: "app==web", want: true },
  { name: "inequality rejects the same value", sel: "app!=web", want: false },
  { name: "inequality accepts a missing key", sel: "missing!=x", want: true },
  { name: "in accepts one of the values", sel: "env in (dev, prod)", want: true },
  { name: "notin rejects one of the values", sel: "env notin (prod)", want: false },
  { name: "notin accepts a missing key", sel: "zone notin (a)", want: true },
  { name: "exists needs the key", sel: "tier", want: true },
  { name: "does-not-exist rejects a present key", sel: "!tier", want: false },
  { name: "requirements are ANDed", sel: "app=web,tier=back", want: false },
  { name: "an empty selector matches everything", sel: "", want: true },
];
for (const c of cases) test(`parseSelector: ${c.name}`, () => assert.equal(parseSelector(c.sel).matches(labels), c.want));

test("parseSelector: rejects syntax it does not know", () => {
  assert.throws(() => parseSelector("app=web=x"), /unable to parse requirement/);
});

test("selectorFromLabelSelector: a missing selector matches nothing, an empty one everything", () => {
  assert.equal(selectorFromLabelSelector(undefined).matches(labels), false);
  assert.equal(selectorFromLabelSelector({}).matches(labels), true);
  assert.equal(selectorFromLabelSelector({}).matches(undefined), true);
  assert.equal(everything().empty(), true);
});

test("selectorFromLabelSelector: matchLabels and matchExpressions together, and their string form", () => {
  const sel = selectorFromLabelSelector({
    matchLabels: { app: "web" },
    matchExpressions: [
      { key: "env", operator: "In", values: ["prod", "staging"] },
      { key: "legacy", operator: "DoesNotExist" },
    ],
  });
  assert.equal(sel.matches(labels), true);
  assert.equal(sel.matches({ ...labels, legacy: "1" }), false);
  assert.equal(sel.toString(), "app=web,env in (prod,staging),!legacy");
  assert.equal(parseSelector(sel.toString()).matches(labels), true);
  assert.throws(() => selectorFromLabelSelector({ matchExpressions: [{ key: "a", operator: "Gt" }] }), /not a valid label selector operator/);
  assert.equal(selectorFromSet({ b: "2", a: "1" }).toString(), "a=1,b=2");
});
