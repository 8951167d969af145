/**
 * kubectl's table output (`get`, `api-resources`) read back into rows. kubectl aligns every column with
 * a tabwriter, so each cell starts where its header starts; splitting on whitespace instead would
 * misread empty cells (an api-resource without SHORTNAMES).
 */

export type TableRow = Record<string, string>;

/** The header's column names, in order. */
export function tableHeader(text: string): string[] {
  const header = text.split("\n")[0] ?? "";
  return header.trim().split(/\s+/);
}

/** Every row under the header, keyed by column name (the last column takes the rest of the line). */
export function parseTable(text: string): TableRow[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = lines[0];
  if (header === undefined) return [];
  const starts: { name: string; at: number }[] = [];
  for (const m of header.matchAll(/\S+/g)) starts.push({ name: m[0], at: m.index });
  return lines.slice(1).map((line) => {
    const row: TableRow = {};
    starts.forEach((col, i) => {
      const end = i + 1 < starts.length ? starts[i + 1]!.at : undefined;
      row[col.name] = line.slice(col.at, end).trim();
    });
    return row;
  });
}
