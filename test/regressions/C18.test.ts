/**
 * C18 (field-cases.md): locale-dependent lower-casing (`toLocaleLowerCase('tr')` → dotless ı;
 * `toLowerCase()` of İ → combining dot) breaks e-mail keys. Folding must be locale-independent,
 * also in a process started with LANG=tr_TR.UTF-8.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { normalizeEmail } from '../../src/domain/recipient.ts';

t.test('INFO@EXAMPLE.COM and Info@Example.com → info@example.com', async (t) => {
  t.match(normalizeEmail('INFO@EXAMPLE.COM'), { ok: true, canonical: 'info@example.com', registrable: true });
  t.match(normalizeEmail('Info@Example.com'), { ok: true, canonical: 'info@example.com', registrable: true });
  const r = normalizeEmail('INFO@EXAMPLE.COM');
  if (r.ok) {
    t.not(r.canonical, 'ınfo@example.com', 'no dotless ı');
    t.equal(r.canonical.length, 16, 'no combining characters');
  }
});

t.test('same keys under LANG=tr_TR.UTF-8', async (t) => {
  const code = `const m = await import(${JSON.stringify(new URL('../../src/domain/recipient.ts', import.meta.url).href)});
    console.log(JSON.stringify({ locale: new Intl.Collator().resolvedOptions().locale,
      keys: ['INFO@EXAMPLE.COM', 'Info@Example.com', 'IŞIL@EXAMPLE.COM'].map((s) => m.normalizeEmail(s)) }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8', TZ: 'UTC' }, encoding: 'utf8',
  });
  const child = JSON.parse(out) as { locale: string; keys: unknown[] };
  t.equal(child.locale, 'tr-TR', 'the child runs with a Turkish default locale');
  t.match(child.keys[0], { ok: true, canonical: 'info@example.com', registrable: true });
  t.match(child.keys[1], { ok: true, canonical: 'info@example.com', registrable: true });
  t.match(child.keys[2], { ok: true, canonical: 'iŞil@example.com', registrable: false }, 'Ş stays: not registrable');
  t.same(child.keys, ['INFO@EXAMPLE.COM', 'Info@Example.com', 'IŞIL@EXAMPLE.COM'].map((s) => normalizeEmail(s)));
});
