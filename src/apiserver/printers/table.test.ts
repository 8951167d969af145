import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_RESOURCES, findResource } from "../../api/resources.js";
import { ApiError } from "../../api/status.js";
import { hasPrinter, parseIncludeObject, printerFor, toTable } from "./table.js";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const pods = findResource("", "v1", "pods")!;
const limitRanges = findResource("", "v1", "limitranges")!;

const pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "u1", resourceVersion: "42", creationTimestamp: "2024-06-01T11:50:00Z", labels: { app: "web" } },
  spec: { containers: [{ name: "app", image: "nginx" }] },
  status: { phase: "Pending" },
};

test("toTable: a Table of kind Table in meta.k8s.io/v1, with the list's metadata and the printer's columns", () => {
  const table = toTable(pods, [pod], { nowMs: NOW, includeObject: "Metadata", listMeta: { resourceVersion: "100", continue: "abc", remainingItemCount: 5 } });
  assert.equal(table.kind, "Table");
  assert.equal(table.apiVersion, "meta.k8s.io/v1");
  assert.deepEqual(table.metadata, { resourceVersion: "100", continue: "abc", remainingItemCount: 5 });
  assert.deepEqual(Object.keys(table), ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]);
  assert.deepEqual(table.columnDefinitions![0], {
    name: "Name",
    type: "string",
    format: "name",
    description:
      "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    priority: 0,
  });
  assert.deepEqual(table.rows[0]!.cells, ["web", "0/1", "Pending", "0", "10m", "<none>", "<none>", "<none>", "<none>"]);
});

test("toTable: includeObject=Metadata attaches a PartialObjectMetadata of the object's metadata", () => {
  const table = toTable(pods, [pod], { nowMs: NOW, includeObject: "Metadata" });
  assert.deepEqual(table.rows[0]!.object, { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: pod.metadata });
  assert.deepEqual(table.metadata, {});
});

test("toTable: includeObject=Object attaches the object; None attaches null, as upstream's empty RawExtension", () => {
  assert.equal(toTable(pods, [pod], { nowMs: NOW, includeObject: "Object" }).rows[0]!.object, pod);
  assert.equal(toTable(pods, [pod], { nowMs: NOW, includeObject: "None" }).rows[0]!.object, null);
});

test("toTable: v1beta1 tables and noHeaders", () => {
  const table = toTable(pods, [pod], { nowMs: NOW, includeObject: "Metadata", apiVersion: "meta.k8s.io/v1beta1", noHeaders: true });
  assert.equal(table.apiVersion, "meta.k8s.io/v1beta1");
  assert.equal(table.columnDefinitions, undefined);
  assert.equal((table.rows[0]!.object as { apiVersion: string }).apiVersion, "meta.k8s.io/v1beta1");
});

test("toTable: an empty list has the columns and no rows", () => {
  const table = toTable(pods, [], { nowMs: NOW, includeObject: "Metadata", listMeta: { resourceVersion: "7" } });
  assert.deepEqual(table.rows, []);
  assert.equal(table.columnDefinitions!.length, 9);
});

test("toTable: a resource without a printer gets upstream's default Name / Created At table", () => {
  assert.equal(hasPrinter(limitRanges), false);
  const lr = { metadata: { name: "limits", creationTimestamp: "2024-05-30T08:15:00Z" } };
  const table = toTable(limitRanges, [lr], { nowMs: NOW, includeObject: "Metadata" });
  assert.deepEqual(
    table.columnDefinitions!.map((c) => [c.name, c.type, c.format]),
    [
      ["Name", "string", "name"],
      ["Created At", "date", ""],
    ],
  );
  assert.deepEqual(table.rows[0]!.cells, ["limits", "2024-05-30T08:15:00Z"]);
});

test("every served resource except Binding and LimitRange has a printer of its own", () => {
  const without = BUILTIN_RESOURCES.filter((r) => !hasPrinter(r)).map((r) => r.resource);
  assert.deepEqual(without.sort(), ["bindings", "limitranges"]);
});

for (const r of BUILTIN_RESOURCES) {
  test(`printer for ${r.resource}.${r.group || "core"}: one name column, and as many cells as columns for an empty and a minimal object`, () => {
    const printer = printerFor(r);
    assert.equal(printer.columns.filter((c) => c.format === "name").length, 1);
    for (const c of printer.columns) {
      assert.ok(c.description.length > 0, `column ${c.name} has a description`);
      assert.ok(["string", "integer", "number", "boolean", "date"].includes(c.type), `column ${c.name} has an OpenAPI type`);
    }
    for (const obj of [{}, { metadata: { name: "x", creationTimestamp: "2024-06-01T11:00:00Z" }, spec: {}, status: {} }]) {
      const cells = toTable(r, [obj], { nowMs: NOW, includeObject: "None" }).rows[0]!.cells;
      assert.equal(cells.length, printer.columns.length);
      for (const cell of cells) assert.ok(["string", "number", "boolean"].includes(typeof cell), `cell ${String(cell)} is a JSON scalar`);
    }
  });
}

test("parseIncludeObject: absent means Metadata; an unknown value is a 400 with upstream's message", () => {
  assert.equal(parseIncludeObject(null), "Metadata");
  assert.equal(parseIncludeObject(""), "Metadata");
  assert.equal(parseIncludeObject("Object"), "Object");
  assert.throws(
    () => parseIncludeObject("All"),
    (err: unknown) => err instanceof ApiError && err.code === 400 && err.message === 'unrecognized includeObject value: "All"',
  );
});
