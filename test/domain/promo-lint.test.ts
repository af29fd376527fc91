/**
 * The promotional-content lint (src/domain/promo-lint.ts) on a labelled corpus of realistic
 * Turkish SMS texts and e-mail subjects written for this test: delivery, OTP, debt reminders,
 * appointments, campaigns, and mixed messages (a service notice with a promotional tail, which
 * is promotional). Labels are what a compliance reviewer would say: `true` = promotes a product.
 * Prints precision and recall and holds them to thresholds.
 */
import t from 'tap';
import { applyPromotionalPolicy, foldTurkish, lintPromotional } from '../../src/domain/promo-lint.ts';

type Kind = 'delivery' | 'otp' | 'debt' | 'service' | 'campaign' | 'mixed' | 'email-subject';
const CORPUS: Array<[promotional: boolean, kind: Kind, text: string]> = [
  // --- delivery / order (informational) ---
  [false, 'delivery', 'Siparişiniz kargoya verildi. Takip no: 7281946352. Gönderinizi https://kargo.example/t/7281946352 adresinden izleyebilirsiniz.'],
  [false, 'delivery', 'Sayın müşterimiz, 48213 numaralı siparişiniz bugün 14:00-18:00 arasında teslim edilecektir.'],
  [false, 'delivery', 'Kargonuz dağıtıma çıkmıştır. Kurye: 0555 000 00 01. İyi günler dileriz.'],
  [false, 'delivery', 'Gönderiniz şubemize ulaştı. 3 iş günü içinde teslim alınmazsa göndericiye iade edilecektir.'],
  [false, 'delivery', 'İade talebiniz onaylandı. Tutar 3-5 iş günü içinde kartınıza yansıyacaktır.'],
  [false, 'delivery', 'Teslimat adresiniz güncellendi. Yeni adres: Moda Cad. No:12 Kadıköy.'],
  // --- OTP / security (informational) ---
  [false, 'otp', 'Doğrulama kodunuz: 482913. Bu kodu kimseyle paylaşmayınız. B001'],
  [false, 'otp', 'Tek kullanımlık şifreniz 1934. İşlem tutarı 250,00 TL. Banka çalışanları bu şifreyi sormaz.'],
  [false, 'otp', 'Hesabınıza yeni bir cihazdan giriş yapıldı. Siz değilseniz 0850 000 00 00 numarasını arayınız.'],
  [false, 'otp', 'Giriş kodunuz 77120. Kod 3 dakika geçerlidir.'],
  [false, 'otp', 'Şifre sıfırlama talebiniz alındı. Onay kodu: 550912.'],
  // --- debt / billing (informational; a rate with % is not promotion) ---
  [false, 'debt', 'Sayın abonemiz, 1.248,50 TL tutarlı faturanızın son ödeme tarihi 15.12.2026dır.'],
  [false, 'debt', 'Kredi kartı ekstreniz kesildi. Dönem borcu 8.420 TL, asgari ödeme 3.368 TL, son ödeme tarihi 05.01.2027.'],
  [false, 'debt', 'Ödenmemiş borcunuz nedeniyle hattınız 3 gün içinde kısıtlanacaktır. Gecikme faizi aylık %4,25 uygulanır.'],
  [false, 'debt', 'Kira ödemeniz alınmıştır. Teşekkür ederiz.'],
  [false, 'debt', 'Otomatik ödeme talimatınız 12.12.2026 tarihinde 340 TL olarak gerçekleşti.'],
  // --- service / appointment / regulatory (informational) ---
  [false, 'service', 'Yarın saat 10:30 Dr. Ayşe Yılmaz randevunuzu hatırlatırız. İptal için 0212 000 00 00.'],
  [false, 'service', 'Planlı bakım nedeniyle 30 Kasım 02:00-04:00 arasında mobil uygulamamıza erişilemeyecektir.'],
  [false, 'service', 'Sözleşmeniz 31.12.2026 tarihinde sona erecektir. Yenileme koşulları için şubenize başvurunuz.'],
  [false, 'service', 'Poliçeniz yenilendi. Poliçe no 33019-2. Belgeniz e-posta adresinize gönderildi.'],
  [false, 'service', 'Aboneliğiniz iptal edilmiştir. Bu işlemi siz yapmadıysanız bizimle iletişime geçin.'],
  [false, 'service', 'KVKK aydınlatma metnimiz güncellenmiştir. Ayrıntılar web sitemizdedir.'],
  [false, 'service', 'Uçuşunuz TK1234 kapı değişikliği: yeni kapı 212. Biniş 18:40.'],
  // --- campaigns (promotional) ---
  [true, 'campaign', 'KASIM İNDİRİMİ başladı! Tüm ürünlerde %50ye varan indirim sizi bekliyor. Kaçırmayın!'],
  [true, 'campaign', 'Efsane Cuma fırsatları kaçmaz! Sepette ek %20 indirim için hemen alışverişe başla: shop.example'],
  [true, 'campaign', 'Size özel 100 TL kupon hesabınıza tanımlandı. 500 TL ve üzeri alışverişlerde geçerli. Son gün pazar!'],
  [true, 'campaign', 'Yeni sezon ürünlerinde 3 al 2 öde kampanyası mağazalarımızda ve online!'],
  [true, 'campaign', 'Doğum gününüz kutlu olsun! Size özel hediye kahveniz şubelerimizde sizi bekliyor.'],
  [true, 'campaign', 'Hafta sonuna özel tüm pizzalarda ikincisi yarı fiyatına! Sipariş için uygulamayı açın.'],
  [true, 'campaign', 'Ücretsiz kargo fırsatı sadece bugün! 150 TL üzeri siparişlerde kargo bizden.'],
  [true, 'campaign', 'Çekilişe katılın, iPhone kazanma şansı yakalayın! Detaylar için tıklayın.'],
  [true, 'campaign', 'Bu ay yapacağınız her 100 TL harcamaya 10 TL ParaPuan! Kampanyaya katılmak için KATIL yazıp 4444e gönderin.'],
  [true, 'campaign', 'Yılbaşına özel fiyatlarla tatil paketleri satışta. Erken rezervasyonda 9 taksit imkanı.'],
  [true, 'campaign', 'Yeni koleksiyonumuz mağazalarda! Stoklarla sınırlı ürünleri hemen keşfet.'],
  [true, 'campaign', 'Akaryakıt alımlarınızda litre başına 2 TL indirim! Kartınızla ödeyin, kazanın.'],
  [true, 'campaign', 'Black Friday başladı: seçili ürünlerde 5.000 TLye varan fırsatlar.'],
  [true, 'campaign', 'Bedava internet! 10 GB hediye paketini tanımlamak için HEDIYE yazıp 5555e gönder.'],
  [true, 'campaign', 'Sadece bugün 1 alana 1 bedava burger! Kod: BURGER11'],
  [true, 'campaign', 'Promosyon kodunuz: YAZ25. Tüm siparişlerde geçerli.'],
  [true, 'campaign', 'Konut kredisinde faiz %2,49! Hemen başvur, avantajlı ödeme planlarıyla evin sahibi ol.'],
  // --- mixed: service notice + promotional tail (promotional) ---
  [true, 'mixed', 'Siparişiniz kargoya verildi. Bir sonraki alışverişinizde %15 indirim için KARGO15 kodunu kullanın.'],
  [true, 'mixed', 'Faturanız 320 TL. Şimdi otomatik ödeme talimatı verin, 50 TL hediye çeki kazanın!'],
  [true, 'mixed', 'Randevunuz yarın 14:00. Randevu günü tüm bakım ürünlerinde %30 indirim fırsatı!'],
  [true, 'mixed', 'Doğrulama kodunuz 4412. Uygulamaya özel kampanyaları kaçırmamak için bildirimleri açın.'],
  [true, 'mixed', 'Poliçeniz yenilendi. Kasko yaptıranlara trafik sigortasında %10 indirim!'],
  // --- e-mail subjects ---
  [false, 'email-subject', 'Siparişiniz onaylandı (#48213)'],
  [false, 'email-subject', 'Kasım 2026 faturanız hazır'],
  [false, 'email-subject', 'Şifre sıfırlama isteğiniz'],
  [false, 'email-subject', 'Hesap hareketleriniz: Kasım dönemi ekstresi'],
  [false, 'email-subject', 'Toplantı davetiniz: 3 Aralık 10:00'],
  [false, 'email-subject', 'Kampanya katılımınız alınmıştır'], // notice about a campaign the customer joined: still informational
  [true, 'email-subject', 'Sadece bu hafta: tüm kategorilerde %40 indirim'],
  [true, 'email-subject', 'Sana özel kupon içeride 🎁'],
  [true, 'email-subject', 'Son 24 saat! Fırsatları kaçırma'],
  [true, 'email-subject', 'Yeni sezon geldi, ilk siparişe ücretsiz kargo'],
  [true, 'email-subject', 'Hediyeni almayı unutma'],
];

t.test('corpus is large enough and labelled both ways', async (t) => {
  t.ok(CORPUS.length >= 40, `${CORPUS.length} texts`);
  t.ok(CORPUS.filter((c) => c[0]).length >= 15, 'promotional examples');
  t.ok(CORPUS.filter((c) => !c[0]).length >= 15, 'informational examples');
});

t.test('precision and recall on the labelled corpus', async (t) => {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  const misses: string[] = [];
  for (const [label, kind, text] of CORPUS) {
    const r = lintPromotional(text);
    if (r.promotional && label) tp++;
    else if (r.promotional && !label) { fp++; misses.push(`FP [${kind}] ${text} → ${r.hits.join(',')}`); }
    else if (!r.promotional && label) { fn++; misses.push(`FN [${kind}] ${text} → ${r.hits.join(',')}`); }
    else tn++;
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  t.comment(`promo-lint: n=${CORPUS.length} tp=${tp} fp=${fp} fn=${fn} tn=${tn} precision=${precision.toFixed(3)} recall=${recall.toFixed(3)}`);
  for (const m of misses) t.comment(m);
  t.ok(precision >= 0.9, `precision ${precision.toFixed(3)} ≥ 0.90`);
  t.ok(recall >= 0.9, `recall ${recall.toFixed(3)} ≥ 0.90`);
});

t.test('folding and single rules', async (t) => {
  t.equal(foldTurkish('İNDİRİM FIRSATI Çekiliş'), 'indirim firsati cekilis');
  t.same(lintPromotional('INDIRIM').hits, ['indirim'], 'ASCII spelling of İNDİRİM matches');
  t.equal(lintPromotional('').promotional, false, 'empty text');
  t.equal(lintPromotional(['Sipariş onaylandı', '%20 indirim']).promotional, true, 'parts of one message are read together');
  t.equal(lintPromotional('Faiz oranı %3,5 olarak güncellendi.').promotional, false, 'a % alone is a weak signal');
});

t.test('policy: block | treat-as-commercial | warn', async (t) => {
  const promo = ['Tüm ürünlerde %30 indirim!'];
  t.match(applyPromotionalPolicy('BILGILENDIRME', promo), { messageType: 'TICARI', action: 'treat-as-commercial' }, 'default');
  t.match(applyPromotionalPolicy('BILGILENDIRME', promo, 'block'), { messageType: 'BILGILENDIRME', action: 'block' });
  t.match(applyPromotionalPolicy('BILGILENDIRME', promo, 'warn'), { messageType: 'BILGILENDIRME', action: 'warn' });
  t.match(applyPromotionalPolicy('TICARI', promo, 'block'), { messageType: 'TICARI', action: 'none', lint: null }, 'TICARI is not linted');
  t.match(applyPromotionalPolicy('BILGILENDIRME', ['Kargonuz yola çıktı.'], 'block'), { messageType: 'BILGILENDIRME', action: 'none' });
});

t.test('several texts: each is linted on its own, so a service text cannot hide a campaign (review)', async (t) => {
  const { applyPromotionalPolicy } = await import('../../src/domain/promo-lint.ts');
  const cases: Array<[string[], boolean]> = [
    [['Doğrulama kodunuz 1234, kimseyle paylaşmayınız', 'Kampanya başladı!'], true],
    [['Siparişiniz kargoya verildi', 'Hediye çekiniz hazır'], true],
    [['Doğrulama kodunuz 1234', 'Siparişiniz kargoya verildi'], false],
    [['Kampanya başladı!'], true],
  ];
  for (const [texts, promotional] of cases) {
    const o = applyPromotionalPolicy('BILGILENDIRME', texts);
    t.equal(o.action === 'treat-as-commercial', promotional, texts.join(' | '));
    t.equal(o.messageType, promotional ? 'TICARI' : 'BILGILENDIRME');
  }
});
