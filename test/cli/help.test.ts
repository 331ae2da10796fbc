/** `mu-pipe help <verb>`, `<verb> --help`, and unknown options with a did-you-mean. */
import { describe, expect, it } from "vitest";

import { main } from "../../cli/main.js";
import { verbs } from "../../cli/verbs.js";
import { captureIO } from "../capture-io.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(process.cwd());
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("help", () => {
  it("prints a verb's description, every option, its exit codes and examples, the same for `help run` and `run --help`", async () => {
    const help = await cli("help", "run");
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Runs an experiment's stages in order, .*\n\nusage: mu-pipe run <experiment.yaml> \[options\]\n/);
    for (const option of ["--set", "--only", "--from", "--until", "--force", "--force-all", "--dry-run"]) expect(help.out).toContain(`  ${option} `);
    expect(help.out).toContain("\n\nexit codes: 0 ok, 1 a stage failed, 2 usage or config error, 130 interrupted\n\nexamples:\n  mu-pipe run configs/quickstart.yaml ");
    expect((await cli("run", "--help")).out).toBe(help.out);
    expect((await cli("help")).out).not.toBe(help.out);
  });

  it("gives every verb a description and an example, and helps with subcommands", async () => {
    for (const [name, verb] of Object.entries(verbs)) {
      const help = await cli("help", name);
      expect(help.out, name).toContain(`${verb.description}\n\nusage: mu-pipe ${name}`);
      expect(help.out, name).toMatch(/\nexamples:\n {2}mu-pipe /);
    }
    expect((await cli("runs", "rm", "--help")).out).toMatch(/^Deletes run folders .*\n\nusage: mu-pipe runs rm /);
    expect((await cli("help", "runs", "rm")).out).toBe((await cli("runs", "rm", "--help")).out);
  });

  it("names an unknown verb with a did-you-mean", async () => {
    const result = await cli("help", "sho");
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^mu-pipe: no command `sho`\n {2}did you mean `show`\?\n/);
  });
});

describe("unknown options", () => {
  it("get a did-you-mean naming the command, exit code 2", async () => {
    const result = await cli("run", "x.yaml", "--forse", "a");
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^mu-pipe: unknown option --forse for `run`; did you mean --force\?\n/);
    expect((await cli("gc", "--dryrun")).err).toMatch(/^mu-pipe: unknown option --dryrun for `gc`; did you mean --dry-run\?\n/);
    expect((await cli("runs", "rm", "--faild")).err).toMatch(/^mu-pipe: unknown option --faild for `runs rm`; did you mean --failed\?\n/);
  });

  it("list the options when nothing is close", async () => {
    expect((await cli("show", "--zzzzzz")).err).toMatch(/^mu-pipe: unknown option --zzzzzz for `show`; options: --runs-dir, --format\n/);
  });
});
