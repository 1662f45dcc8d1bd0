import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { VirtualScheduler } from "./virtual-scheduler.ts";

describe("virtual scheduler", () => {
  test("timers run in due order, ties in the order they were set, each seeing its own due time", async () => {
    const s = new VirtualScheduler({ start: 1_000 });
    const ran: string[] = [];
    s.after(30, () => ran.push(`c@${s.now()}`));
    s.after(10, () => ran.push(`a@${s.now()}`));
    s.after(10, () => ran.push(`b@${s.now()}`));
    s.after(-5, () => ran.push(`now@${s.now()}`));
    assert.equal(s.pending, 4);
    assert.equal(s.nextDue, 1_000);
    await s.advance(20);
    assert.deepEqual(ran, ["now@1000", "a@1010", "b@1010"]);
    assert.equal(s.now(), 1_020, "advance leaves the clock at now + ms");
    await s.advance(10);
    assert.deepEqual(ran, ["now@1000", "a@1010", "b@1010", "c@1030"]);
    assert.equal(s.pending, 0);
  });

  test("nothing runs until time is moved", async () => {
    const s = new VirtualScheduler();
    let ran = false;
    s.after(0, () => (ran = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(ran, false);
    await s.advance(0);
    assert.equal(ran, true);
  });

  test("every runs on its own grid until cancelled, and may cancel itself", async () => {
    const s = new VirtualScheduler({ start: 0 });
    const at: number[] = [];
    const timer = s.every(100, () => {
      at.push(s.now());
      if (at.length === 4) s.cancel(timer);
    });
    await s.advance(1_000);
    assert.deepEqual(at, [100, 200, 300, 400]);
    assert.equal(s.pending, 0);
    const other = s.every(0, () => at.push(s.now()));
    await s.advance(3);
    s.cancel(other);
    s.cancel(other);
    s.cancel(undefined);
    assert.deepEqual(at.slice(4), [1_001, 1_002, 1_003], "a period below 1 ms is 1 ms");
  });

  test("a cancelled timer never runs; cancelling a spent one changes nothing", async () => {
    const s = new VirtualScheduler({ start: 0 });
    const ran: string[] = [];
    const a = s.after(10, () => ran.push("a"));
    const b = s.after(20, () => ran.push("b"));
    s.cancel(a);
    await s.advance(30);
    s.cancel(b);
    assert.deepEqual(ran, ["b"]);
    assert.equal(s.pending, 0);
  });

  test("timers that set timers, and async work that awaits between them, run in virtual time order", async () => {
    const s = new VirtualScheduler({ start: 0 });
    const log: string[] = [];
    // A worker that sleeps, awaits a promise chain, sets a timer from inside a timer, and loops.
    const worker = async () => {
      for (let i = 0; i < 3; i++) {
        await s.sleep(100);
        await Promise.resolve().then(() => Promise.resolve());
        log.push(`work ${i} @${s.now()}`);
        s.after(0, () => {
          log.push(`echo ${i} @${s.now()}`);
          s.after(10, () => log.push(`late echo ${i} @${s.now()}`));
        });
      }
      return "done";
    };
    const finished = worker();
    s.after(150, () => log.push(`side @${s.now()}`));
    const took = await s.runUntilIdle();
    assert.equal(await finished, "done");
    assert.equal(took, 310, "the clock stays at the last timer run");
    assert.deepEqual(log, [
      "work 0 @100",
      "echo 0 @100",
      "late echo 0 @110",
      "side @150",
      "work 1 @200",
      "echo 1 @200",
      "late echo 1 @210",
      "work 2 @300",
      "echo 2 @300",
      "late echo 2 @310",
    ]);
  });

  test("runUntilIdle stops before a timer beyond its bound; an every runs up to it", async () => {
    const s = new VirtualScheduler({ start: 0 });
    let ticks = 0;
    const tick = s.every(1_000, () => ticks++);
    s.after(10_000, () => assert.fail("beyond the bound"));
    const took = await s.runUntilIdle(5_500);
    assert.equal(ticks, 5);
    assert.equal(took, 5_000);
    assert.equal(s.pending, 2);
    s.cancel(tick);
  });

  test("advanceTo never moves the clock backwards", async () => {
    const s = new VirtualScheduler({ start: 5_000 });
    await s.advanceTo(4_000);
    assert.equal(s.now(), 5_000);
    await s.advanceTo(5_000.5);
    assert.equal(s.now(), 5_000.5);
  });

  test("two runs of the same program see the same sequence (deterministic)", async () => {
    const trace = async () => {
      const s = new VirtualScheduler({ start: 0 });
      const out: string[] = [];
      for (let i = 0; i < 20; i++) s.after((i * 37) % 11, () => out.push(`${i}@${s.now()}`));
      s.every(3, () => out.push(`tick@${s.now()}`));
      await s.advance(12);
      return out.join(" ");
    };
    assert.equal(await trace(), await trace());
  });

  test("the clock can be handed on unbound", async () => {
    const s = new VirtualScheduler({ start: 42 });
    const { now, sleep } = s;
    const slept = sleep(8);
    await s.advance(10);
    await slept;
    assert.equal(now(), 52);
  });
});
