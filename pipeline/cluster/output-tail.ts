/** Reads what a job has appended to its output file since the last look, as whole lines. */
import { open } from "node:fs/promises";
import { LineSplitter } from "../jobs/job-messages.js";

export class OutputTail {
  #offset = 0;
  readonly #lines = new LineSplitter();

  constructor(readonly file: string) {}

  /** New whole lines (and, with `end`, a last line without a newline). */
  async read(end = false): Promise<string[]> {
    const handle = await open(this.file, "r").catch(() => null);
    if (!handle) return [];
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const buffer = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        chunks.push(buffer.subarray(0, bytesRead));
      }
      const lines = this.#lines.push(Buffer.concat(chunks).toString("utf8"));
      return end ? [...lines, ...this.#lines.end()] : lines;
    } finally {
      await handle.close();
    }
  }
}
