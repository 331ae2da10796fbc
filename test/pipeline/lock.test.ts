import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LockHolder } from "../../pipeline/store/artifact-store.js";
import { STALE_AFTER_MS } from "../../pipeline/store/fs-lock.js";
import { openStore, type FsArtifactStore } from "../../pipeline/store/fs-store.js";
import { killHard, startScript, waitForLine } from "./store-child-process.js";

const KEY = "a".repeat(64);
/** A pid no process can have (above Linux's pid_max). */
const DEAD_PID = 2 ** 30;

describe("FsArtifactStore.lock", () => {
  let root: string;
  let store: FsArtifactStore;
  let lockFile: string;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "mu-lock-"));
    store = await openStore(path.join(root, "store"), { lock: { pollMs: 20, unreadableGraceMs: 300 } });
    lockFile = path.join(store.root, "locks", `${KEY}.lock`);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill("SIGKILL");
    await rm(root, { recursive: true, force: true });
  });

  function holderFile(fields: Partial<LockHolder> & { processStart?: string | null }): string {
    return JSON.stringify({ pid: DEAD_PID, hostname: os.hostname(), since: "2025-01-01T00:00:00.000Z", description: "old run", ...fields });
  }

  it("lets only one of many concurrent callers in at a time", async () => {
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (n) => {
        const lock = await store.lock(KEY, `caller ${n}`, () => undefined);
        inside++;
        most = Math.max(most, inside);
        await sleep(30);
        order.push(n);
        inside--;
        await lock.release();
      }),
    );
    expect(most).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it("writes who holds it, and removes the file on release", async () => {
    const lock = await store.lock(KEY, "train finetune2", () => undefined);
    expect(JSON.parse(await readFile(lockFile, "utf8"))).toMatchObject({ pid: process.pid, hostname: os.hostname(), description: "train finetune2" });
    await lock.release();
    await expect(readFile(lockFile)).rejects.toThrow();
  });

  it("breaks a lock left by a process that no longer exists, without waiting", async () => {
    await writeFile(lockFile, holderFile({ pid: DEAD_PID }));
    const waits: LockHolder[] = [];
    const lock = await store.lock(KEY, "new run", (holder) => waits.push(holder));
    expect(waits).toEqual([]);
    expect(JSON.parse(await readFile(lockFile, "utf8"))).toMatchObject({ pid: process.pid, description: "new run" });
    await lock.release();
  });

  it.skipIf(process.platform !== "linux")("breaks a lock whose pid now belongs to another process (start time differs)", async () => {
    await writeFile(lockFile, holderFile({ pid: process.pid, processStart: "1" }));
    const waits: LockHolder[] = [];
    const lock = await store.lock(KEY, "new run", (holder) => waits.push(holder));
    expect(waits).toEqual([]);
    await lock.release();
  });

  it("takes over a lock from another host once its heartbeat is older than the stale limit, and says which Slurm job held it", async () => {
    await writeFile(lockFile, holderFile({ pid: DEAD_PID, hostname: "node17", owner: "Slurm job 4242 (pid 77)" }));
    const old = new Date(Date.now() - STALE_AFTER_MS - 1000);
    await utimes(lockFile, old, old);
    const lock = await store.lock(KEY, "new run", () => undefined);
    expect(JSON.parse(await readFile(lockFile, "utf8"))).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    await lock.release();
  });

  it("names the Slurm job it runs in", async () => {
    const saved = process.env.SLURM_JOB_ID;
    process.env.SLURM_JOB_ID = "981";
    try {
      const lock = await store.lock(KEY, "train", () => undefined);
      expect(JSON.parse(await readFile(lockFile, "utf8"))).toMatchObject({ owner: `Slurm job 981 (pid ${process.pid})`, slurmJobId: "981" });
      await lock.release();
    } finally {
      if (saved === undefined) delete process.env.SLURM_JOB_ID;
      else process.env.SLURM_JOB_ID = saved;
    }
  });

  it("waits for a holder on another host while its heartbeat is fresh", async () => {
    await writeFile(lockFile, holderFile({ pid: DEAD_PID, hostname: "some-other-host" }));
    const controller = new AbortController();
    const waits: LockHolder[] = [];
    const waiting = store.lock(KEY, "new run", (holder) => waits.push(holder), controller.signal);
    await sleep(200);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
    expect(waits).toEqual([{ owner: `pid ${DEAD_PID}`, pid: DEAD_PID, hostname: "some-other-host", since: "2025-01-01T00:00:00.000Z", description: "old run" }]);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(store.lock(KEY, "x", () => undefined, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
  });

  it("waits on a half-written lock file while it is fresh, and breaks it once old", async () => {
    await writeFile(lockFile, '{"pid": 12');
    const controller = new AbortController();
    const waiting = store.lock(KEY, "x", () => undefined, controller.signal);
    await sleep(100);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });

    const old = new Date(Date.now() - 10_000);
    await utimes(lockFile, old, old);
    const lock = await store.lock(KEY, "x", () => undefined);
    await lock.release();
  });

  it("release leaves a lock file that is no longer its own", async () => {
    const lock = await store.lock(KEY, "mine", () => undefined);
    const theirs = holderFile({ pid: process.pid, description: "someone who broke it" });
    await writeFile(lockFile, theirs);
    await lock.release();
    expect(await readFile(lockFile, "utf8")).toBe(theirs);
  });

  it("waits for a live holder in another process, and takes over once it is killed -9", async () => {
    const child = await startScript(
      root,
      "hold-lock.mjs",
      `const { openStore } = await import(STORE_MODULE);
       const store = await openStore(process.argv[2]);
       await store.lock(process.argv[3], "child holds it", () => {});
       process.stdout.write("locked\\n");
       setInterval(() => {}, 1000);`,
      [store.root, KEY],
    );
    children.push(child);
    await waitForLine(child, (line) => line === "locked");

    const waits: LockHolder[] = [];
    let acquired = false;
    const waiting = store.lock(KEY, "parent", (holder) => waits.push(holder)).then((lock) => {
      acquired = true;
      return lock;
    });
    await sleep(300);
    expect(acquired).toBe(false);
    expect(waits).toEqual([expect.objectContaining({ pid: child.pid, description: "child holds it" })]);

    await killHard(child);
    const lock = await waiting;
    expect(waits).toHaveLength(1);
    expect(JSON.parse(await readFile(lockFile, "utf8"))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it("breaks a lock file naming a plain process once that process is killed -9", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    children.push(child);
    await writeFile(lockFile, holderFile({ pid: child.pid }));
    const waits: LockHolder[] = [];
    const waiting = store.lock(KEY, "parent", (holder) => waits.push(holder));
    await sleep(100);
    expect(waits.map((w) => w.pid)).toEqual([child.pid]);
    await killHard(child);
    await (await waiting).release();
  });
});
