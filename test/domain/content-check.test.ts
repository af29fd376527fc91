/**
 * The commercial content check (src/domain/content-check.ts) and its place in the shared
 * screening (check/screening.ts): every door gets it; `warn` flags, `block` refuses (decision
 * reason CONTENT_REFUSED), `off` does nothing; BILGILENDIRME is never checked.
 */
import t from 'tap';
import { CheckService, type ContentCheckPolicy } from '../../src/check/check-service.ts';
import { screenOutbound } from '../../src/check/screening.ts';
import { checkCommercialContent } from '../../src/domain/content-check.ts';
import { MemoryStore } from '../../src/mirror/memory-store.ts';

const ID = { title: 'ABC Ticaret A.Ş.', mersis: '0123456789012345' };

t.test('refusal instruction and sender identity', async (t) => {
  const ok = [
    "ABC Ticaret: Kış indirimi başladı! RET yazıp 3338'e gönderin, listeden çıkın.",
    "ABC Ticaret'ten %30 indirim. İptal için IPTAL yazıp 4609'a SMS atın.",
    'Mersis 0123456789012345. Yeni sezon geldi. Ret için 4609 a RET ABC yazın',
    "ABC TİCARET: Kampanya! Abonelikten çıkmak için https://abc.com.tr/abonelik tıklayın",
    'ABC Ticaret — STOP to 7889 to unsubscribe',
  ];
  for (const text of ok) t.same(checkCommercialContent([text], ID), [], text);
  t.same(checkCommercialContent(['Kış indirimi başladı! abc.com.tr'], ID), ['ret-instruction', 'identity']);
  t.same(checkCommercialContent(["Kış indirimi başladı! RET yazıp 3338'e gönderin"], ID), ['identity']);
  t.same(checkCommercialContent(['ABC Ticaret: Kış indirimi başladı! https://abc.com.tr/kampanya'], ID), ['ret-instruction'], 'a link that is not an unsubscribe link');
  t.same(checkCommercialContent(['Kış indirimi başladı!']), ['ret-instruction'], 'no identity configured: only the instruction is checked');
  t.same(checkCommercialContent(['ABC Ticaret: R\u200BET yazıp ３３３８ gönderin']), [], 'read as a person reads it');
});

t.test('screenOutbound: warn flags, block refuses with CONTENT_REFUSED, off and BILGILENDIRME untouched', async (t) => {
  const store = new MemoryStore({ dataDir: null });
  await store.open();
  const seen: string[][] = [];
  const make = (mode: ContentCheckPolicy['mode']) => new CheckService({
    store, policy: { tacirWithoutRecord: 'allow', tacirOverBireyselRet: 'block' }, mirrorMaxAgeMs: 0,
    contentCheck: { mode, identities: new Map([[5, ID]]), onMissing: (_e, m) => seen.push([...m]) },
  });
  const msg = { entrance: 'smtp' as const, via: 'mx', brandCode: 5, type: 'MESAJ' as const, recipientType: 'TACIR' as const, messageType: 'TICARI' as const, recipients: ['+905321234567'], texts: ['Kış indirimi!'] };
  const warn = await screenOutbound(make('warn'), msg, { policy: 'treat-as-commercial' });
  t.same(warn.content, { missing: ['ret-instruction', 'identity'], blocked: false });
  t.equal(warn.refused, false);
  t.same(seen, [['ret-instruction', 'identity']], 'metric callback');
  const block = await screenOutbound(make('block'), msg, { policy: 'treat-as-commercial' });
  t.equal(block.refused, true);
  t.same(block.content, { missing: ['ret-instruction', 'identity'], blocked: true });
  t.equal((await screenOutbound(make('off'), msg, { policy: 'treat-as-commercial' })).content, null);
  t.equal((await screenOutbound(make('block'), { ...msg, messageType: 'BILGILENDIRME', texts: ['Kargonuz yola çıktı'] }, { policy: 'treat-as-commercial' })).content, null, 'informational: not checked');
  const full = await screenOutbound(make('block'), { ...msg, texts: ["ABC Ticaret: Kış indirimi! RET yazıp 3338'e gönderin"] }, { policy: 'treat-as-commercial' });
  t.same([full.refused, full.content], [false, null]);
});
