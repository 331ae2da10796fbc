/**
 * Reading the CSV files stages write (history.csv, curve.csv, pr.csv, per-image.csv)
 * back for the report: a header line, then rows; cells may be quoted ("a,b", "" for ").
 */
import { readFile } from "node:fs/promises";

export class CsvTable {
  private constructor(
    readonly file: string,
    readonly columns: readonly string[],
    readonly rows: readonly (readonly string[])[],
  ) {}

  static async read(file: string): Promise<CsvTable> {
    const [header = [], ...rows] = parseCsv(await readFile(file, "utf8"));
    return new CsvTable(file, header, rows);
  }

  /** Text cells of a column; throws naming the file when the column is missing. */
  text(column: string): string[] {
    const index = this.columns.indexOf(column);
    if (index < 0) throw new Error(`${this.file}: no column \`${column}\` (it has ${this.columns.join(", ")})`);
    return this.rows.map((row) => row[index] ?? "");
  }

  /** Numbers of a column; an empty cell is null, anything else that is not a number throws. */
  numbers(column: string): (number | null)[] {
    return this.text(column).map((cell, i) => {
      if (cell === "") return null;
      const value = Number(cell);
      if (Number.isNaN(value)) throw new Error(`${this.file}: row ${i + 2}, column \`${column}\`: not a number: ${JSON.stringify(cell)}`);
      return value;
    });
  }

  /** Like `numbers`, for columns that are never empty. */
  requiredNumbers(column: string): number[] {
    return this.numbers(column).map((value, i) => {
      if (value === null) throw new Error(`${this.file}: row ${i + 2}, column \`${column}\` is empty`);
      return value;
    });
  }
}

/** RFC 4180 records; a trailing newline does not make an empty record. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      record.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      record.push(cell);
      records.push(record);
      record = [];
      cell = "";
    } else {
      cell += c;
    }
  }
  if (cell !== "" || record.length > 0) records.push([...record, cell]);
  return records;
}
