// The operator console in a real browser (issue 18): headless Chromium (Debian's `chromium`,
// installed by .ci/run) driven by puppeteer-core against a gateway on port 0 with an imported
// mirror, an outbox (one item overdue, one failed with its H-code), a running upload job against
// the İYS simulator, and decisions made through two entrances. Every page's DOM is compared with
// the API's numbers; a screenshot of each page is saved and its path printed.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { addBusinessDays, isBusinessDay } from '../../src/domain/calendar.ts';
import { istanbulDate } from '../../src/domain/turkish-time.ts';
import { DEMO, startTestSimulator } from '../../src/simulator/testing.ts';
import { makeGateway, toDailyCsv } from '../helpers/gateway.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const BRAND = DEMO.brandCode;
const CONSOLE_KEY = 'console-key-0123456789abcdef';
const ADMIN_KEY = 'admin-key-0123456789abcdef';

if (!CHROMIUM && !process.env.CI) {
  t.test('the console in headless Chromium', { skip: 'chromium is not installed (apt-get install chromium; .ci/run installs it)' }, async () => {});
} else {
  t.test('the console renders every page with the API\'s numbers in headless Chromium', async (t) => {
    const started = Date.now();
    t.ok(CHROMIUM, 'chromium is installed (.ci/run installs it)');
    const shots = mkdtempSync(join(tmpdir(), 'iysgate-console-'));
    const downloads = join(shots, 'downloads');

    // İYS: batch results only after 10 min, so the upload job below is still running during the test
    const sim = await startTestSimulator({ batchDelayMs: 600_000 });
    t.teardown(() => sim.close());
    const gw = await makeGateway(t, {
      mirrorMaxAgeMs: 3_600_000,
      apiKeys: [
        { name: 'operator', key: CONSOLE_KEY, brands: [BRAND], scopes: ['console', 'rejections', 'audit'] },
        { name: 'setup', key: ADMIN_KEY, brands: '*', scopes: '*' },
      ],
      iys: {
        baseUrl: sim.url, iysCode: DEMO.iysCode, username: DEMO.username, password: DEMO.password, brands: [BRAND],
        pullIntervalMs: 0, uploadIntervalMs: 0, batchPollAfterMs: 600_000, reconcileDaily: false,
      },
      inbound: { numbers: { '+908501234567': [BRAND] } },
    });
    const admin = { authorization: `Bearer ${ADMIN_KEY}` };
    const call = (method: 'GET' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}) => gw.call(method, url, body, { ...admin, ...headers });
    await gw.app.iys.pullAll(); // a complete pull: cursors, last pull time, fresh mirror
    const base = await gw.app.listen({ port: 0, host: '127.0.0.1' });

    // the mirror: 3 MESAJ ONAY, 2 MESAJ RET, 1 ARAMA ONAY, 1 EPOSTA ONAY (BIREYSEL)
    const rows = [
      { recipient: '+905321220006', type: 'MESAJ', status: 'ONAY' }, { recipient: '+905321220007', type: 'MESAJ', status: 'ONAY' },
      { recipient: '+905321220008', type: 'MESAJ', status: 'ONAY' }, { recipient: '+905321220009', type: 'MESAJ', status: 'RET' },
      { recipient: '+905321220010', type: 'MESAJ', status: 'RET' }, { recipient: '+905321220006', type: 'ARAMA', status: 'ONAY' },
      { recipient: 'ayse@example.com', type: 'EPOSTA', status: 'ONAY' },
    ].map((r, i) => ({ ...r, recipientType: 'BIREYSEL', source: 'HS_WEB', consentDate: '2026-01-05 10:00:00', creationDate: '2026-01-05 10:00:00', transactionId: `tx-import-${i}` }));
    const imp = await call('POST', `/v1/mirror/import?brandCode=${BRAND}`, toDailyCsv(rows), { 'content-type': 'text/csv' });
    t.equal(imp.body.applied, 7, 'mirror imported');

    // the outbox: a refusal received now, one received 12 days ago (overdue), one that İYS refused (failed, H-code)
    const now = Date.now();
    const fresh = await call('POST', '/v1/rejections', { brandCode: BRAND, recipient: '05321220011', type: 'MESAJ' });
    const late = await call('POST', '/v1/rejections', { brandCode: BRAND, recipient: '05321220012', type: 'MESAJ', receivedAt: new Date(now - 12 * 86_400_000).toISOString() });
    const failed = await call('POST', '/v1/rejections', { brandCode: BRAND, recipient: '05321220013', type: 'MESAJ', receivedAt: new Date(now - 86_400_000).toISOString() });
    t.same([fresh.status, late.status, failed.status], [201, 201, 201], 'outbox seeded');
    const failedId = (await gw.app.iys.outbox.list()).find((i) => i.consent.recipient === '+905321220013')!.id;
    await gw.app.iys.outbox.update([{ id: failedId, patch: { state: 'failed', outcome: 'rejected', lastError: { code: 'H175', message: 'İptal edilecek izin bulunamadı' } } }]);

    // a running upload job: 3 rows validated and sent to İYS, results not in yet
    const upCsv = ['recipient,type,source,status,consentDate,recipientType',
      `05321110701,MESAJ,HS_WEB,ONAY,${sim.iysNow(-3_600_000)},BIREYSEL`,
      `05321110702,MESAJ,HS_WEB,ONAY,${sim.iysNow(-3_600_000)},BIREYSEL`,
      `veli@example.com,EPOSTA,HS_WEB,ONAY,${sim.iysNow(-3_600_000)},BIREYSEL`].join('\n') + '\n';
    const up = await call('POST', `/v1/iys/uploads?brandCode=${BRAND}`, upCsv, { 'content-type': 'text/csv' });
    t.equal(up.status, 202, 'upload job accepted');
    let job = (await call('GET', `/v1/iys/uploads/${up.body.id}`)).body;
    for (let i = 0; i < 200 && job.progress.sent < 3; i++) {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20));
      job = (await call('GET', `/v1/iys/uploads/${up.body.id}`)).body;
    }
    t.match(job, { state: 'running', progress: { validated: 3, sent: 3, confirmed: 0 } }, 'the upload job is running, its rows sent');

    // decisions through two entrances: 4 single checks, one batch of 5
    for (const r of ['05321220006', '05321220007', '05321220009', '05329999999']) await call('POST', '/v1/check', { brandCode: BRAND, recipient: r, type: 'MESAJ' });
    await call('POST', '/v1/check/batch', { brandCode: BRAND, type: 'MESAJ', recipients: ['05321220006', '05321220008', '05321220010', '05321220011', 'not-a-number'] });
    const ring = (await call('GET', '/v1/console/decisions')).body as { series: { decision: string; reason: string; entrance: string; total: number }[] };
    const sum = (f: (s: { decision: string; reason: string; entrance: string }) => boolean) => ring.series.filter(f).reduce((n, s) => n + s.total, 0);
    t.same([sum((s) => s.decision === 'ALLOW'), sum((s) => s.decision === 'BLOCK')], [4, 5], 'the ring counted 4 ALLOW, 5 BLOCK');
    t.same([sum((s) => s.entrance === 'check'), sum((s) => s.entrance === 'batch')], [4, 5], 'by entrance');

    // a reply the inbound door keeps for review (free text, not a keyword)
    const reply = await call('POST', '/v1/inbound', { messageId: 'mo-1', from: '905321220014', to: '908501234567', text: 'beni listeden çıkarın lütfen' });
    t.equal(reply.body.results[0].status, 'review', 'a reply waits for review');

    // ——— the browser ———
    t.comment(`setup ${Date.now() - started} ms`);
    const browser: Browser = await puppeteer.launch({
      executablePath: CHROMIUM!, headless: true,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--lang=tr-TR'],
    });
    t.teardown(() => browser.close());
    t.comment(`browser up ${Date.now() - started} ms`);
    const page: Page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    let expected401 = 0;
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`); });
    const shot = async (name: string) => {
      const p = join(shots, `${name}.png`);
      await page.screenshot({ path: p, fullPage: true });
      t.comment(`screenshot ${name}: ${p}`);
    };
    const text = (sel: string) => page.$eval(sel, (e) => (e.textContent ?? '').trim());
    const open = async (name: string) => {
      await page.evaluate(`location.hash = '#/${name}'`);
      await page.waitForSelector(`#page-${name}[data-ready="true"]`, { timeout: 10_000 });
    };

    // sign-in: a wrong key shows the error, the right one opens the Overview
    await page.goto(`${base}/console/`, { waitUntil: 'load' });
    await page.waitForSelector('#key');
    await page.type('#key', 'wrong-key-0123456789abcdef');
    await page.keyboard.press('Enter');
    await page.waitForFunction("(document.getElementById('signin-error')?.textContent ?? '') !== ''", { timeout: 10_000 });
    t.equal(await text('#signin-error'), 'Anahtar geçersiz (401).', 'a wrong key shows the error (Turkish by default)');
    // the refused sign-in is the one answer allowed to fail (a 401 and the browser's note of it)
    expected401 = problems.filter((p) => p.includes('401')).length;
    t.ok(expected401 >= 1 && problems.every((p) => p.includes('401')), 'the wrong key was refused with 401, nothing else failed');
    problems.length = 0;
    t.equal(await page.evaluate('sessionStorage.length'), 0, 'a refused key is not kept');
    await page.$eval('#key', (e) => { (e as unknown as { value: string }).value = ''; });
    await page.type('#key', CONSOLE_KEY);
    await page.click('#signin');
    await page.waitForSelector('#page-overview[data-ready="true"]', { timeout: 10_000 });
    t.equal(await page.evaluate('Object.values(sessionStorage)[0]'), CONSOLE_KEY, 'the key is kept in sessionStorage');

    // Overview
    const ov = (await gw.call('GET', '/v1/console/overview', undefined, { authorization: `Bearer ${CONSOLE_KEY}` })).body;
    const st = (await gw.call('GET', '/v1/sync/status', undefined, { authorization: `Bearer ${CONSOLE_KEY}` })).body;
    t.equal(ov.mirror.size, 7 + 3, 'API: 7 imported + 3 refusals');
    t.equal(await text('#store-kind'), 'embedded');
    t.equal(await text('#store-reachable'), 'evet');
    t.equal(await text('#readiness'), 'hazır');
    t.equal(await text('#mirror-size'), String(ov.mirror.size), 'mirror size as the API says');
    const byType = await page.$$eval('[data-type]', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    t.same(byType, [['MESAJ', '3', '5'], ['ARAMA', '1', '0'], ['EPOSTA', '1', '0']], 'records by type and status');
    t.same(byType.map((r) => [r[0], Number(r[1]), Number(r[2])]), Object.entries(ov.mirror.byType).map(([k, v]) => [k, (v as { ONAY: number }).ONAY, (v as { RET: number }).RET]), '… equal to the API');
    t.equal(await page.$eval('#freshness-gauge', (e) => e.className), 'gauge', 'the freshness gauge is not red (fresh)');
    const syncRow = await page.$$eval(`tr[data-brand="${BRAND}"] td`, (tds) => tds.map((td) => td.textContent));
    t.equal(syncRow[1], st.brands[0].cursors.HS ?? '—', 'HS cursor as the API says');
    t.equal(syncRow[2], st.brands[0].cursors.IYS ?? '—', 'IYS cursor as the API says');
    t.match(syncRow[3] ?? '', /^\d+ sn$/, 'last pull seconds ago');
    t.equal(await page.$eval('#outbox-summary [data-k="overdue"]', (e) => e.textContent), '1', 'one overdue item');
    t.equal(await page.$eval('#outbox-summary [data-k="failed"]', (e) => e.textContent), '1', 'one failed item');
    t.equal(await text('#cache'), 'gömülü depo: önbellek yok', 'no cache on the embedded store');
    await shot('overview');

    // Decisions
    await open('decisions');
    t.equal(await text('#allow-total'), '4');
    t.equal(await text('#block-total'), '5');
    const entr = await page.$$eval('#by-entrance tr[data-entrance]', (trs) => trs.map((tr) => [tr.getAttribute('data-entrance'), tr.querySelectorAll('td')[1]!.textContent]));
    t.same(entr, [['batch', '5'], ['check', '4']], 'decisions by entrance');
    const top = await page.$$eval('#top-reasons tr[data-reason]', (trs) => trs.map((tr) => `${tr.getAttribute('data-decision')} ${tr.getAttribute('data-reason')} ${tr.querySelectorAll('td')[2]!.textContent}`));
    const expectTop = ([['ALLOW', 'CONSENT_ONAY'], ['BLOCK', 'CONSENT_RET'], ['BLOCK', 'INVALID_RECIPIENT'], ['BLOCK', 'NO_CONSENT']] as const)
      .map(([d, r]) => ({ d, r, n: sum((s) => s.decision === d && s.reason === r) })).filter((x) => x.n > 0)
      .sort((a, b) => b.n - a.n || (a.r < b.r ? -1 : 1)).map((x) => `${x.d} ${x.r} ${x.n}`);
    t.same(top, expectTop, 'top reasons equal to the API\'s counts');
    t.same(top[0], 'ALLOW CONSENT_ONAY 4');
    // the decision-log search (GET /v1/decisions exists, the key holds audit)
    await page.type('#log-recipient', '0532 122 00 06');
    await page.click('#log-go');
    await page.waitForSelector('#log-result[data-ready="true"]');
    const logged = (await call('GET', '/v1/decisions?recipient=05321220006')).body as string;
    const want = logged.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; entrance: string; reason: string });
    t.same(want.map((d) => d.entrance).sort(), ['batch', 'check'], 'API: the number was decided once by /v1/check, once in the batch');
    t.same(await page.$$eval('#log-result tr[data-id]', (rs) => rs.map((r) => r.getAttribute('data-id'))), want.map((d) => d.id), 'the search lists the log\'s records');
    t.ok(await page.$('#chart-reason .uplot canvas'), 'the per-reason chart is drawn');
    t.ok(await page.$('#chart-entrance .uplot canvas'), 'the per-entrance chart is drawn');
    await shot('decisions');

    // Outbox: by deadline, business days left, overdue marked, failed with H-code, CSV
    await open('outbox');
    const items = await gw.app.iys.outbox.list();
    const today = istanbulDate(new Date());
    const trs = await page.$$eval('tr[data-id]', (rs) => rs.map((r) => ({ id: r.getAttribute('data-id'), overdue: r.getAttribute('data-overdue'), cls: r.className, left: r.querySelector('td.left')!.textContent, error: r.querySelectorAll('td')[9]!.textContent })));
    t.equal(trs.length, 3, 'three outbox rows');
    const deadlines = trs.map((r) => items.find((i) => i.id === r.id)!.deadline!);
    t.same(deadlines, [...deadlines].sort(), 'sorted by deadline');
    const lateItem = items.find((i) => i.consent.recipient === '+905321220012')!;
    const lateRow = trs.find((r) => r.id === lateItem.id)!;
    t.equal(lateRow.overdue, 'true', 'the overdue item is marked');
    t.equal(lateRow.cls, 'overdue', '… with the red row class');
    t.equal(await page.evaluate(`getComputedStyle(document.querySelector('tr[data-id="${lateItem.id}"] .overdue-mark')).color`), 'rgb(207, 34, 46)', '… in red');
    // business days since its deadline, counted with calendar.ts
    let past = 0;
    for (let d = nextDay(lateItem.deadline!); d <= today; d = nextDay(d)) if (isBusinessDay(d)) past++;
    t.equal(lateRow.left, `⚠ ${Math.max(1, past)} iş günü gecikti`, 'overdue by the business days since its deadline');
    const freshItem = items.find((i) => i.consent.recipient === '+905321220011')!;
    t.equal(freshItem.deadline, addBusinessDays(today, 3), 'API: deadline of a refusal received today');
    t.equal(trs.find((r) => r.id === freshItem.id)!.left, '3 iş günü', 'a refusal received today has 3 business days left');
    t.equal(trs.find((r) => r.id === failedId)!.error, 'H175 İptal edilecek izin bulunamadı', 'the failed item shows its H-code and message');
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
    const done = new Promise<void>((resolve) => cdp.on('Browser.downloadProgress', (e) => { if (e.state === 'completed') resolve(); }));
    await page.click('#outbox-csv');
    await done;
    const [csvName] = readdirSync(downloads);
    const csv = readFileSync(join(downloads, csvName!), 'utf8').trimEnd().split('\r\n');
    t.equal(csv.length, 1 + 3, 'CSV: header and the three items');
    t.match(csv[0], /^id,brandCode,origin,state,recipient,/);
    for (const i of items) t.ok(csv.some((l) => l.startsWith(`${i.id},${BRAND},rejection,${i.state},${i.consent.recipient},`) && l.includes(`,${i.deadline},`)), `CSV row of ${i.consent.recipient}`);
    t.ok(csv.some((l) => l.includes(',yes,') && l.startsWith(lateItem.id)), 'CSV marks the overdue item');
    t.ok(csv.some((l) => l.startsWith(failedId) && l.includes(',H175,')), 'CSV carries the H-code');
    t.comment(`outbox CSV: ${join(downloads, csvName!)}`);
    await shot('outbox');

    // Uploads
    await open('uploads');
    job = (await call('GET', `/v1/iys/uploads/${up.body.id}`)).body;
    const upRow = await page.$eval(`tr[data-id="${up.body.id}"]`, (r) => ({ state: r.getAttribute('data-state'), value: (r.querySelector('progress') as unknown as { value: number }).value, max: (r.querySelector('progress') as unknown as { max: number }).max, text: r.querySelector('.progress-text')!.textContent }));
    t.same(upRow, { state: 'running', value: job.progress.confirmed, max: job.progress.total, text: `${job.progress.confirmed} / ${job.progress.total} onaylanan · ${job.progress.sent} gönderilen · ${job.progress.validated} doğrulanan` }, 'the running job with its progress');
    await shot('uploads');

    // Lookup: a messy spelling of a refused number
    await open('lookup');
    await page.type('#lookup-recipient', ' +90 (532) 122-00 09 ');
    await page.click('#lookup-go');
    await page.waitForSelector('#lookup-result[data-ready="true"]');
    t.equal(await text('#lookup-normalized'), '+905321220009', 'normalized form');
    const answer = async (mt: string) => page.$eval(`#check-${mt}`, (e) => [e.getAttribute('data-decision'), e.getAttribute('data-reason')]);
    const api = async (mt: string) => (await call('POST', '/v1/check', { brandCode: BRAND, recipient: '+905321220009', type: 'MESAJ', messageType: mt })).body;
    t.same(await answer('TICARI'), ['BLOCK', 'CONSENT_RET'], 'TICARI: blocked by the RET');
    t.same(await answer('BILGILENDIRME'), ['ALLOW', 'INFORMATIONAL_EXEMPT'], 'BILGILENDIRME: exempt');
    const [ta, ba] = [await api('TICARI'), await api('BILGILENDIRME')];
    t.same([[ta.decision, ta.reason], [ba.decision, ba.reason]], [await answer('TICARI'), await answer('BILGILENDIRME')], 'as /v1/check answers');
    const recs = await page.$$eval('#lookup-result tr[data-type]', (rs) => rs.map((r) => `${r.getAttribute('data-type')} ${r.getAttribute('data-rtype')} ${r.getAttribute('data-status')}`));
    t.same(recs, ['MESAJ BIREYSEL RET', 'MESAJ TACIR none', 'ARAMA BIREYSEL none', 'ARAMA TACIR none'], 'every record of the brand for the number');
    await shot('lookup');

    // Opt-out review: the queue, refuse with the button
    await open('review');
    const queued = (await call('GET', '/v1/optouts/review')).body;
    t.equal(queued.items.length, 1);
    const rid = queued.items[0].id as string;
    t.same(await page.$eval(`tr[data-id="${rid}"]`, (r) => [r.getAttribute('data-state'), r.querySelectorAll('td')[3]!.textContent]), ['open', 'beni listeden çıkarın lütfen'], 'the reply waits in the queue');
    t.equal(await text('#review-counts [data-k="open"]'), '1 açık');
    await shot('review');
    await page.click(`tr[data-id="${rid}"] button.refuse`);
    await page.waitForSelector(`tr[data-id="${rid}"][data-state="refused"]`);
    t.equal((await call('POST', '/v1/check', { brandCode: BRAND, recipient: '05321220014', type: 'MESAJ' })).body.reason, 'CONSENT_RET', 'refused from the console: the number is blocked');
    t.equal((await call('GET', '/v1/optouts/review')).body.open, 0, 'nothing left to review');

    // English, keyboard, phone width
    await page.click('#lang');
    await page.waitForSelector('#page-review[data-ready="true"]');
    t.equal(await page.evaluate('document.documentElement.lang'), 'en');
    t.equal(await text('#nav-outbox'), 'Outbox', 'English navigation');
    await page.setViewport({ width: 390, height: 844, isMobile: true });
    await open('overview');
    t.ok(await page.evaluate('document.documentElement.scrollWidth <= 390'), 'no horizontal scroll at phone width');
    await shot('overview-phone');
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${base}/console/#/outbox`, { waitUntil: 'load' });
    await page.reload({ waitUntil: 'load' }); // a new document: focus starts at the top
    await page.waitForSelector('#page-outbox[data-ready="true"]');
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate('document.activeElement?.id'), 'skip', 'the first Tab reaches the skip link');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate('document.activeElement?.id'), 'nav-decisions', 'navigation links are reached by Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#page-decisions[data-ready="true"]');
    t.pass('Enter on a link opens its page');

    t.same(problems, [], 'no console errors, failed requests or error answers on any page');
    const csp = (await fetch(`${base}/console/`)).headers.get('content-security-policy');
    t.match(csp, /script-src 'self';/, 'strict CSP: scripts from the gateway only');
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'no inline script or eval allowed');
    t.comment(`screenshots in ${shots}`);
    t.comment(`browser test took ${Date.now() - started} ms`);
  });
}

function nextDay(d: string): string {
  return new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
