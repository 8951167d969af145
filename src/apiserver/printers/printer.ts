/**
 * What a printer is: the columns of a resource's table (upstream's `TableColumnDefinition`s from
 * `AddHandlers`) and a function from one object to its row's cells. Printers always print every
 * column, the `-o wide` ones (priority > 0) included: kube-apiserver generates tables with
 * `Wide: true` and kubectl hides the priority columns itself.
 */
import { FIELD_DOCS } from "./field_docs.js";

/** One cell: upstream's cells are Go strings, int64s and bools. */
export type Cell = string | number | boolean;

/** `metav1.TableColumnDefinition`. Every field is serialized, empty ones included. */
export interface TableColumnDefinition {
  readonly name: string;
  /** An OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  readonly type: string;
  /** An OpenAPI format; `name` marks the column holding the object's name. */
  readonly format: string;
  readonly description: string;
  /** 0 for the default view; > 0 only with `-o wide`. */
  readonly priority: number;
}

/** `metav1.TableRowCondition`: today only pods carry one, `Completed` for a succeeded or failed pod. */
export interface TableRowCondition {
  readonly type: "Completed";
  readonly status: "True";
  readonly reason: string;
  readonly message: string;
}

/** A printed row before the table decides what object to attach to it. */
export interface PrintedRow {
  readonly cells: Cell[];
  readonly conditions?: readonly TableRowCondition[];
}

/** What a row may depend on besides the object: only the time, for ages. */
export interface PrintContext {
  readonly nowMs: number;
}

export interface Printer {
  readonly columns: readonly TableColumnDefinition[];
  print(obj: object, ctx: PrintContext): PrintedRow;
}

/** A column; `description` is a key of FIELD_DOCS (`Type.field`, upstream's SwaggerDoc lookups) or literal text. */
export function column(
  name: string,
  type: string,
  description: string,
  options: { priority?: number; format?: string } = {},
): TableColumnDefinition {
  const doc = (FIELD_DOCS as Record<string, string>)[description];
  return { name, type, format: options.format ?? "", description: doc ?? description, priority: options.priority ?? 0 };
}

/** Wide columns (priority 1). */
export function wide(name: string, type: string, description: string): TableColumnDefinition {
  return column(name, type, description, { priority: 1 });
}

export const NAME_COLUMN = column("Name", "string", "ObjectMeta.name", { format: "name" });
export const AGE_COLUMN = column("Age", "string", "ObjectMeta.creationTimestamp");
export const CONTAINERS_DOC = "Names of each container in the template.";
export const IMAGES_DOC = "Images referenced by each container in the template.";

/** A Kubernetes `GroupResource` string, the key printers are registered under: `pods`, `deployments.apps`. */
export function groupResource(group: string, resource: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}

/** The object's `metadata`, or an empty one. */
export function metaOf(obj: object): ObjectMetaLike {
  const m = (obj as { metadata?: unknown }).metadata;
  return typeof m === "object" && m !== null ? (m as ObjectMetaLike) : {};
}

/** The metadata fields printers read. */
export interface ObjectMetaLike {
  name?: string;
  namespace?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }[];
}
