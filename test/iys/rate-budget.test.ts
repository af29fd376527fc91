import t from 'tap';
import { RateBudget, sharedRateBudget } from '../../src/iys/rate-budget.ts';

/** A fake clock whose sleep advances time instead of waiting. */
function fakeTime(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((r) => setImmediate(() => { sleeps.push(ms); now += ms; r(); })),
    advance: (ms: number) => { now += ms; },
    sleeps,
  };
}

t.test('never more than perSecond grants in any 1000 ms window, FIFO across concurrent callers', async (t) => {
  const ft = fakeTime();
  const b = new RateBudget({ perSecond: 10, windowMs: 1000, now: ft.now, sleep: ft.sleep });
  const grants: [number, number][] = [];
  await Promise.all(Array.from({ length: 35 }, (_, i) => b.acquire().then(() => grants.push([i, ft.now()]))));
  t.equal(grants.length, 35);
  t.same(grants.map(([i]) => i), Array.from({ length: 35 }, (_, i) => i), 'FIFO');
  const times = grants.map(([, at]) => at);
  for (let i = 10; i < times.length; i++) t.ok(times[i]! - times[i - 10]! >= 1000, `grant ${i} is ≥ 1000 ms after grant ${i - 10}`);
  t.equal(times[34]! - times[0]!, 3000, 'four waves of 10,10,10,5');
  t.equal(b.granted, 35);
});

t.test('default window is 1100 ms (margin for network delay)', async (t) => {
  const ft = fakeTime();
  const b = new RateBudget({ perSecond: 2, now: ft.now, sleep: ft.sleep });
  await b.acquire();
  await b.acquire();
  const start = ft.now();
  await b.acquire();
  t.equal(ft.now() - start, 1100);
});

t.test('pause() after a 429 holds every caller', async (t) => {
  const ft = fakeTime();
  const b = new RateBudget({ perSecond: 10, now: ft.now, sleep: ft.sleep });
  b.pause(1500);
  const start = ft.now();
  await b.acquire();
  t.equal(ft.now() - start, 1500);
});

t.test('hourly budgets throw GW_ERR_IYS_BUDGET_EXHAUSTED with retryAt; they slide', async (t) => {
  const ft = fakeTime();
  const b = new RateBudget({ perSecond: 0, statusPerHour: 2, historyPerHour: 1, now: ft.now, sleep: ft.sleep });
  await b.acquire('status');
  ft.advance(10_000);
  await b.acquire('status');
  t.equal(b.remaining('status'), 0);
  const err = await b.acquire('status').catch((e) => e);
  t.equal(err.code, 'GW_ERR_IYS_BUDGET_EXHAUSTED');
  t.equal(err.statusCode, 429);
  t.equal(err.retryAt, 1_000_000 + 3_600_000);
  await b.acquire('history');
  await t.rejects(b.acquire('history'), { code: 'GW_ERR_IYS_BUDGET_EXHAUSTED' });
  ft.advance(3_600_000 - 10_000 + 1);
  t.equal(b.remaining('status'), 1, 'the first stamp left the window');
  await b.acquire('status');
});

t.test('defaults stay under İYS limits', async (t) => {
  const b = new RateBudget();
  t.equal(b.perSecond, 9);
  t.equal(b.remaining('status'), 950);
  t.equal(b.remaining('history'), 95);
  t.equal(b.remaining('token'), 90);
});

t.test('one shared budget per İYS host', async (t) => {
  t.equal(sharedRateBudget('api.iys.org.tr'), sharedRateBudget('api.iys.org.tr'));
  t.not(sharedRateBudget('api.iys.org.tr'), sharedRateBudget('api.sandbox.iys.org.tr'));
});
