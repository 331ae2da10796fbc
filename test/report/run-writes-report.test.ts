/** `mu-pipe run` leaves a report.html in every run folder, whatever the outcome, and a report problem never changes the exit code. */
import { promises as fs } from "node:fs";
import path from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import type { PageData } from "../../cli/report/chart-data.js";
import type { RunRecord } from "../../pipeline/formats.js";
import { captureIO } from "../capture-io.js";
import { DIAMOND, EngineRig, toyPlugin } from "../pipeline/engine-rig.js";
import { pageData } from "./fake-run.js";

let rig: EngineRig;
beforeEach(async () => {
  rig = await EngineRig.create();
});
afterEach(async () => {
  await rig.cleanup();
});

async function latestReport(): Promise<{ record: RunRecord; html: string }> {
  const record = await rig.readJson<RunRecord>("runs/latest/run.json");
  return { record, html: await fs.readFile(path.join(rig.dir, "runs", record.id, "report.html"), "utf8") };
}

describe("mu-pipe run writes runs/<run>/report.html", () => {
  it("after a run that succeeds", async () => {
    await rig.write("exp.yaml", DIAMOND);
    const result = await rig.cli("run", "exp.yaml");
    expect(result.code).toBe(0);
    expect(result.out).not.toContain("warning");
    const { record, html } = await latestReport();
    expect(pageData<PageData>(html).runs[0]).toMatchObject({ id: record.id, experiment: "toy", status: "succeeded", metrics: { "c.chars": 12 } });
    expect(html.match(/<span class="status status-ran">ran<\/span>/g)).toHaveLength(3);
  });

  it("after a run that fails, showing the failure, with the run's exit code", async () => {
    await rig.write("exp.yaml", DIAMOND.replace('params: { suffix: "!" }', "params: { fail: true }"));
    const result = await rig.cli("run", "exp.yaml");
    expect(result.code).toBe(1);
    const { record, html } = await latestReport();
    expect(record.status).toBe("failed");
    expect(html).toContain('<span class="status status-failed">failed</span>');
    expect(html).toContain('<span class="error">told to fail</span>');
  });

  it("and when the report cannot be written, says so in one warning line and still exits 0", async () => {
    // A stage that puts a folder where report.html goes, so the final rename fails.
    const blocker = await rig.write(
      "blocker.mjs",
      `import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
export const stageTypes = [{
  name: "block-report", version: 1, description: "x", paramsSchema: { type: "object" }, inputs: {}, outputs: { out: { description: "x" } },
  async run(ctx) {
    await mkdir(path.join(ctx.baseDir, "runs/latest/report.html/taken"), { recursive: true });
    await writeFile(path.join(ctx.outDir, "out"), "x");
  },
}];
`,
    );
    await rig.write("exp.yaml", "experiment: blocked\nstages:\n  a:\n    uses: block-report\n");
    const io = captureIO(rig.dir, { env: { ...rig.env, MU_PIPE_PLUGINS: [toyPlugin, blocker].join(path.delimiter) } });
    expect(await main(["run", "exp.yaml"], io)).toBe(0);
    const record = await rig.readJson<RunRecord>("runs/latest/run.json");
    const warnings = io.stdout().split("\n").filter((line) => line.includes("warning"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^\\[run\\] warning: could not write runs/${record.id}/report\\.html: (EISDIR|ENOTEMPTY)`));
    expect(record.status).toBe("succeeded");
  });
});
