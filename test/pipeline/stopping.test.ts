import { describe, expect, it } from "vitest";
import { AbandonedError, ProtectedWork, settleOrAbandon } from "../../pipeline/stopping.js";

const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe("settleOrAbandon", () => {
  it("settles as the stage does while nobody hurries", async () => {
    const hurry = new AbortController();
    await expect(settleOrAbandon(later(5, "done"), hurry.signal, new ProtectedWork())).resolves.toBe("done");
    await expect(settleOrAbandon(Promise.reject(new Error("boom")), hurry.signal, new ProtectedWork())).rejects.toThrow("boom");
  });

  it("on hurry stops waiting for the stage, but not before its protected work has finished", async () => {
    const hurry = new AbortController();
    const work = new ProtectedWork();
    const events: string[] = [];
    const checkpoint = work.protect(later(50, null).then(() => void events.push("checkpoint written")));
    const stage = new Promise<never>(() => {}); // never stops by itself
    const settled = settleOrAbandon(stage, hurry.signal, work).catch((error: unknown) => {
      events.push("gave up");
      throw error;
    });
    setTimeout(() => hurry.abort(), 5);
    await expect(settled).rejects.toBeInstanceOf(AbandonedError);
    await checkpoint;
    expect(events).toEqual(["checkpoint written", "gave up"]);
  });
});
