#!/usr/bin/env node
// Writes field_numbers.ts: our table of Kubernetes protobuf field numbers. Run by hand, not at build:
//
//   node src/api/protobuf/generate_field_numbers.mjs <k8s.io/api git dir> <k8s.io/apimachinery git dir> v0.30.14,v0.31.14,v0.32.9 > src/api/protobuf/field_numbers.ts
//
// It reads two upstream sources (kubernetes/api and kubernetes/apimachinery) at each tag and merges the
// tags, oldest first: our OpenAPI definitions are 1.30's and kubectl is 1.32, and a field one of them
// has and the other dropped (PodResourceClaim.source) keeps its number, which upstream never reuses.
// At each tag it checks one source against the other: the `protobuf:"…"` struct tags of the Go types (which
// also say whether a field is a pointer or has omitempty, which the proto text does not) and
// `generated.proto` (which says whether a field is a scalar or a message). A field whose number or name
// differs between the two stops the run. Only messages reachable from the served resources are written.
// Needs `npx tsc` first: it imports the served resources from dist/.

import { execFileSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const [apiGit, machineryGit, tagList] = process.argv.slice(2);
let tag = "";
if (apiGit === undefined || machineryGit === undefined || tagList === undefined) {
  console.error("usage: generate_field_numbers.mjs <k8s.io/api git dir> <k8s.io/apimachinery git dir> <tag>");
  process.exit(2);
}
const { BUILTIN_RESOURCES } = await import(pathToFileURL(resolve("dist/src/api/resources.js")).href);

/** Proto package → where its Go files live, and the OpenAPI name prefix of its messages. */
function sourceOf(protoPackage) {
  const core = /^k8s\.io\.api\.([a-z0-9]+)\.(v[a-z0-9]+)$/.exec(protoPackage);
  if (core !== null) return { git: apiGit, dir: `${core[1]}/${core[2]}`, openapi: `io.k8s.api.${core[1]}.${core[2]}` };
  const m = /^k8s\.io\.apimachinery\.(pkg\.[a-z0-9.]+)$/.exec(protoPackage);
  if (m !== null) return { git: machineryGit, dir: m[1].replaceAll(".", "/"), openapi: `io.k8s.apimachinery.${m[1]}` };
  throw new Error(`unknown proto package ${protoPackage}`);
}

function git(dir, ...args) {
  return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
}

const SCALARS = new Set(["string", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "bytes"]);
// Handled by the decoder itself: their JSON form is not their message form.
const SPECIAL = new Set([
  "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
  "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
  "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
  "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
  "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
  "k8s.io.apimachinery.pkg.api.resource.Quantity",
  "k8s.io.apimachinery.pkg.runtime.RawExtension",
]);

/** Every message of a package's generated.proto: name → fields {name, number, type, label}. */
const protoCache = new Map();
function protoPackage(pkg) {
  if (protoCache.has(`${tag} ${pkg}`)) return protoCache.get(`${tag} ${pkg}`);
  const src = sourceOf(pkg);
  const text = git(src.git, "show", `${tag}:${src.dir}/generated.proto`);
  const messages = new Map();
  let current = null;
  for (const line of text.split("\n")) {
    const open = /^message (\w+) \{/.exec(line);
    if (open !== null) {
      current = { name: open[1], fields: [] };
      messages.set(open[1], current);
      continue;
    }
    if (line === "}") current = null;
    if (current === null) continue;
    const f = /^\s+(optional|repeated) ([\w.]+) (\w+) = (\d+);/.exec(line);
    const map = /^\s+map<([\w.]+), ([\w.]+)> (\w+) = (\d+);/.exec(line);
    if (f !== null) current.fields.push({ label: f[1], type: qualify(f[2], pkg), name: f[3], number: Number(f[4]) });
    else if (map !== null) current.fields.push({ label: "map", type: qualify(map[2], pkg), name: map[3], number: Number(map[4]) });
    else if (/^\s+(optional|repeated|required|map)/.test(line)) throw new Error(`unparsed proto line in ${pkg}: ${line}`);
  }
  protoCache.set(`${tag} ${pkg}`, messages);
  return messages;
}

function qualify(type, pkg) {
  if (SCALARS.has(type)) return type;
  if (type.startsWith(".")) return type.slice(1);
  // Older go-to-protobuf wrote qualified names without the leading dot.
  if (type.startsWith("k8s.io.")) return type;
  return `${pkg}.${type}`;
}

/** Every struct field with a protobuf tag in a package's Go files: struct → fields. */
const goCache = new Map();
function goPackage(pkg) {
  if (goCache.has(`${tag} ${pkg}`)) return goCache.get(`${tag} ${pkg}`);
  const src = sourceOf(pkg);
  const files = git(src.git, "ls-tree", "--name-only", `${tag}:${src.dir}`)
    .split("\n")
    .filter((f) => f.endsWith(".go") && !f.endsWith("_test.go") && !f.startsWith("zz_generated") && f !== "generated.pb.go");
  const structs = new Map();
  for (const file of files) {
    let current = null;
    for (const line of git(src.git, "show", `${tag}:${src.dir}/${file}`).split("\n")) {
      const open = /^type (\w+) struct ?\{(\})?/.exec(line);
      if (open !== null) {
        const fields = [];
        structs.set(open[1], fields);
        current = open[2] === undefined ? fields : null;
        continue;
      }
      if (line === "}") current = null;
      if (current === null || /^\s*\/\//.test(line)) continue;
      const m = /^\s+(?:(\w+)\s+)?([\][*.\w]+)\s+`([^`]*)`/.exec(line);
      if (m === null) continue;
      const proto = /protobuf:"([^"]*)"/.exec(m[3]);
      if (proto === null) continue;
      const json = /json:"([^"]*)"/.exec(m[3]);
      const [jsonName, ...jsonOpts] = (json?.[1] ?? "").split(",");
      const parts = proto[1].split(",");
      // Without name= (an embedded struct), go-to-protobuf names the field after the type, lower-camel.
      const goName = m[1] ?? m[2].replace(/^.*\./, "");
      const protoName = parts.find((p) => p.startsWith("name="))?.slice(5) ?? goName[0].toLowerCase() + goName.slice(1);
      current.push({
        goName,
        goType: m[2],
        jsonName,
        inline: jsonOpts.includes("inline"),
        omitempty: jsonOpts.includes("omitempty"),
        number: Number(parts[1]),
        protoName,
      });
    }
  }
  goCache.set(`${tag} ${pkg}`, structs);
  return structs;
}

function split(full) {
  const i = full.lastIndexOf(".");
  return { pkg: full.slice(0, i), name: full.slice(i + 1) };
}
const openapiName = (full) => `${sourceOf(split(full).pkg).openapi}.${split(full).name}`;

// Roots: every served kind, its list, the subresource kinds, and the meta/v1 option kinds.
const roots = new Set();
const protoOf = (definition) => definition.replace(/^io\.k8s\./, "k8s.io.");
for (const r of BUILTIN_RESOURCES) {
  roots.add(protoOf(r.definition));
  roots.add(protoOf(`${r.definition}List`));
}
for (const extra of [
  "io.k8s.api.autoscaling.v1.Scale",
  "io.k8s.api.policy.v1.Eviction",
  "io.k8s.api.core.v1.Binding",
  ...["DeleteOptions", "CreateOptions", "UpdateOptions", "PatchOptions", "GetOptions", "ListOptions", "Status", "WatchEvent", "Patch", "PartialObjectMetadata", "PartialObjectMetadataList", "APIGroup", "APIGroupList", "APIResourceList", "APIVersions", "Condition"].map(
    (k) => `io.k8s.apimachinery.pkg.apis.meta.v1.${k}`,
  ),
]) roots.add(protoOf(extra));

/** A named slice type (`type Verbs []string`): no Go struct, one `repeated … items = 1` message. */
function isListWrapper(full) {
  if (SCALARS.has(full) || SPECIAL.has(full)) return false;
  const { pkg, name } = split(full);
  const message = protoPackage(pkg).get(name);
  if (goPackage(pkg).has(name) || message === undefined) return false;
  const [only, ...rest] = message.fields;
  return rest.length === 0 && only?.label === "repeated" && only.name === "items" && only.number === 1;
}

/** The messages reachable from the roots at the current tag: proto name → {fields, inline, zero, wrapped}. */
function collect() {
const out = new Map();
const queue = [...roots];
while (queue.length > 0) {
  const full = queue.shift();
  if (out.has(full) || SPECIAL.has(full)) continue;
  const { pkg, name } = split(full);
  const message = protoPackage(pkg).get(name);
  const struct = goPackage(pkg).get(name);
  if (message === undefined) {
    // A list of a resource upstream serves without one (bindings) has no message: skip it.
    if (name.endsWith("List")) continue;
    throw new Error(`no proto message ${full}`);
  }
  if (struct === undefined) throw new Error(`no Go struct ${full}`);
  const entry = { fields: [], inline: [], zero: [], wrapped: [] };
  for (const f of message.fields) {
    const go = struct.find((g) => g.number === f.number);
    if (go === undefined) throw new Error(`${full}: proto field ${f.name} = ${f.number} has no Go field`);
    if (go.protoName !== f.name) throw new Error(`${full}: field ${f.number} is ${f.name} in proto and ${go.protoName} in Go`);
    if (isListWrapper(f.type)) {
      // `type Verbs []string` is a message {repeated string items = 1} on the wire, a plain list in JSON.
      entry.fields.push([go.jsonName, f.number]);
      entry.wrapped.push(go.jsonName);
      continue;
    }
    if (!SCALARS.has(f.type)) queue.push(f.type);
    if (go.inline) {
      entry.inline.push([f.number, openapiName(f.type)]);
      continue;
    }
    if (go.jsonName === "" || go.jsonName === "-") throw new Error(`${full}: field ${f.name} has no JSON name`);
    entry.fields.push([go.jsonName, f.number]);
    // JSON writes a zero scalar when the Go field is a pointer (set means present) or has no omitempty.
    if (f.label === "optional" && SCALARS.has(f.type) && (go.goType.startsWith("*") || !go.omitempty)) entry.zero.push(go.jsonName);
  }
  for (const g of struct) {
    if (!message.fields.some((f) => f.number === g.number)) throw new Error(`${full}: Go field ${g.goName} = ${g.number} is not in the proto`);
  }
  out.set(full, entry);
}
return out;
}

// Merge the tags, oldest first; a later tag's facts about a field win (it may have become a pointer).
const out = new Map();
for (tag of tagList.split(",")) {
  for (const [full, entry] of collect()) {
    const prior = out.get(full);
    if (prior === undefined) {
      out.set(full, entry);
      continue;
    }
    for (const [name, number] of prior.fields) {
      const clash = entry.fields.find(([n, num]) => (n === name) !== (num === number));
      if (clash !== undefined) throw new Error(`${full}: ${name} = ${number} before ${tag}, ${clash[0]} = ${clash[1]} at ${tag}`);
    }
    const dropped = prior.fields.filter(([name]) => !entry.fields.some(([n]) => n === name));
    entry.fields.push(...dropped);
    entry.zero.push(...prior.zero.filter((name) => dropped.some(([n]) => n === name)));
    entry.inline.push(...prior.inline.filter(([num]) => !entry.inline.some(([n]) => n === num)));
    entry.wrapped.push(...prior.wrapped.filter((name) => !entry.wrapped.includes(name)));
    out.set(full, entry);
  }
}

const names = [...out.keys()].map((k) => [openapiName(k), out.get(k)]).sort(([a], [b]) => (a < b ? -1 : 1));
const key = (s) => (/^[A-Za-z_$][\w$]*$/.test(s) ? s : JSON.stringify(s));
const lines = [];
lines.push(`// Generated by generate_field_numbers.mjs from k8s.io/api and k8s.io/apimachinery ${tagList.split(",").join(" + ")}`);
lines.push("// (Go struct tags checked against generated.proto). Do not edit by hand: rerun it.");
lines.push("");
lines.push("/** Per OpenAPI definition: each JSON field name → its protobuf field number. */");
lines.push("export const FIELD_NUMBERS: Readonly<Record<string, Readonly<Record<string, number>>>> = {");
for (const [n, e] of names) lines.push(`  ${JSON.stringify(n)}: { ${e.fields.map(([j, num]) => `${key(j)}: ${num}`).join(", ")} },`);
lines.push("};");
lines.push("");
lines.push("/**");
lines.push(" * Go structs embedded with `json:\",inline\"` but sent as one nested message: field number → the");
lines.push(" * struct (its fields are in FIELD_NUMBERS) whose fields JSON flattens into the parent. Volume's");
lines.push(" * field 2 holds a VolumeSource whose `hostPath` is the Volume's own `hostPath` in JSON.");
lines.push(" */");
lines.push("export const INLINE_MESSAGES: Readonly<Record<string, Readonly<Record<number, string>>>> = {");
for (const [n, e] of names) if (e.inline.length > 0) lines.push(`  ${JSON.stringify(n)}: { ${e.inline.map(([num, t]) => `${num}: ${JSON.stringify(t)}`).join(", ")} },`);
lines.push("};");
lines.push("");
lines.push("/**");
lines.push(" * Scalar fields whose zero value JSON still carries: pointers (`*int32 replicas`: set to 0 is not");
lines.push(" * unset) and fields without omitempty (`value int32` of PriorityClass). gogo writes every non-pointer");
lines.push(" * scalar, so a zero of any other field means \"unset\" and is dropped as JSON's omitempty would.");
lines.push(" */");
lines.push("export const ZERO_VALUE_FIELDS: Readonly<Record<string, readonly string[]>> = {");
for (const [n, e] of names) if (e.zero.length > 0) lines.push(`  ${JSON.stringify(n)}: [${e.zero.map((j) => JSON.stringify(j)).join(", ")}],`);
lines.push("};");
lines.push("");
lines.push("/** List fields whose Go type is a named slice (`Verbs []string`): on the wire one message {repeated items = 1}. */");
lines.push("export const WRAPPED_LISTS: Readonly<Record<string, readonly string[]>> = {");
for (const [n, e] of names) if (e.wrapped.length > 0) lines.push(`  ${JSON.stringify(n)}: [${e.wrapped.map((j) => JSON.stringify(j)).join(", ")}],`);
lines.push("};");
process.stdout.write(lines.join("\n") + "\n");
console.error(`${names.length} messages`);
