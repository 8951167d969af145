/**
 * Server-side printing: a list or object as a `meta.k8s.io/v1` Table, what `kubectl get` asks for
 * with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`. Rows carry every column (kubectl
 * hides priority > 0 ones unless `-o wide`), and each row's `object` is what `includeObject` asks for.
 */
import type { ResourceInfo } from "../../api/resources.js";
import { badRequest } from "../../api/status.js";
import { APPS_PRINTERS } from "./apps_printers.js";
import { BATCH_PRINTERS } from "./batch_printers.js";
import { CORE_PRINTERS } from "./core_printers.js";
import { formatRFC3339 } from "./duration.js";
import { OTHER_PRINTERS } from "./other_printers.js";
import {
  column,
  groupResource,
  metaOf,
  type Cell,
  type PrintContext,
  type Printer,
  type TableColumnDefinition,
  type TableRowCondition,
} from "./printer.js";

/** `metav1.IncludeObjectPolicy`: the `includeObject` query parameter. */
export type IncludeObjectPolicy = "None" | "Metadata" | "Object";

/**
 * The `includeObject` query parameter as a policy: absent or empty means Metadata, as upstream; any
 * other value is a 400 with upstream's message.
 */
export function parseIncludeObject(value: string | null | undefined): IncludeObjectPolicy {
  if (value === null || value === undefined || value === "") return "Metadata";
  if (value === "None" || value === "Metadata" || value === "Object") return value;
  throw badRequest(`unrecognized includeObject value: ${JSON.stringify(value)}`);
}

/** The Table's `metadata` (a ListMeta). */
export interface TableListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface TableRow {
  cells: Cell[];
  conditions?: readonly TableRowCondition[];
  /** PartialObjectMetadata, the full object, or null for `includeObject=None` (upstream's empty RawExtension marshals as null). */
  object: Record<string, unknown> | null;
}

export interface Table {
  kind: "Table";
  apiVersion: string;
  metadata: TableListMeta;
  /** Omitted when the client asked for `noHeaders`. */
  columnDefinitions?: TableColumnDefinition[];
  rows: TableRow[];
}

export interface ToTableOptions {
  /** The time ages are computed against. */
  nowMs: number;
  /** Upstream's default when the client does not say is Metadata. */
  includeObject: IncludeObjectPolicy;
  /** The list's metadata; for a single object pass `{ resourceVersion: obj.metadata.resourceVersion }`. */
  listMeta?: TableListMeta;
  /** The Table's group/version: `meta.k8s.io/v1` (default) or `meta.k8s.io/v1beta1`, as negotiated. */
  apiVersion?: string;
  /** `TableOptions.noHeaders`: leave out the column definitions. */
  noHeaders?: boolean;
}

export const TABLE_API_VERSION = "meta.k8s.io/v1";

/** Every printer by GroupResource. */
const PRINTERS: ReadonlyMap<string, Printer> = new Map([...CORE_PRINTERS, ...APPS_PRINTERS, ...BATCH_PRINTERS, ...OTHER_PRINTERS]);

/**
 * Upstream's `rest.NewDefaultTableConvertor`, for resources without a printer (LimitRange, Binding):
 * the name and the creation time as an RFC 3339 date.
 */
export const defaultPrinter: Printer = {
  columns: [column("Name", "string", "ObjectMeta.name", { format: "name" }), column("Created At", "date", "ObjectMeta.creationTimestamp")],
  print(obj) {
    const meta = metaOf(obj);
    return { cells: [meta.name ?? "", formatRFC3339(meta.creationTimestamp)] };
  },
};

/** The printer for a resource: its own, or the default table. */
export function printerFor(resource: Pick<ResourceInfo, "group" | "resource">): Printer {
  return PRINTERS.get(groupResource(resource.group, resource.resource)) ?? defaultPrinter;
}

/** Whether a resource has a printer of its own (rather than the Name / Created At default). */
export function hasPrinter(resource: Pick<ResourceInfo, "group" | "resource">): boolean {
  return PRINTERS.has(groupResource(resource.group, resource.resource));
}

function rowObject(obj: Record<string, unknown>, policy: IncludeObjectPolicy, apiVersion: string): Record<string, unknown> | null {
  switch (policy) {
    case "None":
      return null;
    case "Object":
      return obj;
    case "Metadata":
      return { kind: "PartialObjectMetadata", apiVersion, metadata: obj["metadata"] ?? {} };
  }
}

/** The objects (a list's items, or one object) as a Table. */
export function toTable(resource: Pick<ResourceInfo, "group" | "resource">, objects: readonly object[], options: ToTableOptions): Table {
  const printer = printerFor(resource);
  const apiVersion = options.apiVersion ?? TABLE_API_VERSION;
  const ctx: PrintContext = { nowMs: options.nowMs };
  const rows: TableRow[] = objects.map((o) => {
    const obj = o as Record<string, unknown>;
    const printed = printer.print(obj, ctx);
    const row: TableRow = { cells: printed.cells, object: null };
    // Key order as upstream serializes a TableRow: cells, conditions, object.
    if (printed.conditions !== undefined && printed.conditions.length > 0) row.conditions = printed.conditions;
    row.object = rowObject(obj, options.includeObject, apiVersion);
    return row;
  });
  const metadata: TableListMeta = {};
  const lm = options.listMeta;
  if (lm?.resourceVersion) metadata.resourceVersion = lm.resourceVersion;
  if (lm?.continue) metadata.continue = lm.continue;
  if (lm?.remainingItemCount !== undefined && lm.remainingItemCount !== null) metadata.remainingItemCount = lm.remainingItemCount;
  // Key order as upstream serializes a Table: kind, apiVersion, metadata, columnDefinitions, rows.
  if (options.noHeaders === true) return { kind: "Table", apiVersion, metadata, rows };
  return { kind: "Table", apiVersion, metadata, columnDefinitions: [...printer.columns], rows };
}
