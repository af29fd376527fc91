// The console's words in Turkish (default) and English. `t(key)` answers in the current language;
// a key missing in English falls back to Turkish, a key missing in both is shown as itself.

export const WORDS = {
  tr: {
    title: 'iys-gate konsolu', skip: 'İçeriğe geç', signIn: 'Giriş', signOut: 'Çıkış', apiKey: 'API anahtarı',
    signInHelp: 'Kapsamı console olan bir anahtar girin. Anahtar yalnızca bu sekmede (sessionStorage) tutulur.',
    badKey: 'Anahtar geçersiz (401).', forbiddenKey: 'Bu anahtarın console kapsamı yok (403).', netError: 'Ağ gatewaye ulaşamadı',
    overview: 'Genel bakış', decisions: 'Kararlar', outbox: 'Giden kutusu', uploads: 'Yüklemeler', lookup: 'Sorgu',
    language: 'English', languageLabel: 'Dili İngilizce yap', refresh: 'Yenile', loading: 'Yükleniyor…', brand: 'Marka', allBrands: 'Tüm markalar',
    signedInAs: 'Oturum', readOnly: 'salt okunur',
    store: 'Depo', kind: 'Tür', reachable: 'Erişilebilir', yes: 'evet', no: 'hayır', readiness: 'Hazırlık', ready: 'hazır', notReady: 'hazır değil',
    mirror: 'Ayna', consents: 'İzin kaydı', asOf: 'Güncellik', age: 'Yaş', bound: 'Sınır', stale: 'BAYAT', fresh: 'güncel', noBound: 'sınır yok',
    byType: 'Türe göre kayıtlar', type: 'Tür', notCounted: 'sayılmadı (ayna çok büyük)',
    sync: 'İYS eşitlemesi', cursorHS: 'İmleç HS', cursorIYS: 'İmleç IYS', lastPull: 'Son çekme', lastPush: 'Son push', pulled: 'Çekilen', deadLetters: 'Ölü mektup', lastError: 'Son hata', never: 'hiç', iysOff: 'İYS hesabı yapılandırılmamış',
    cache: 'Önbellek (Redis)', serving: 'Sunuyor', entries: 'Girdi', hitRatio: 'İsabet oranı', noCache: 'gömülü depo: önbellek yok',
    outboxSummary: 'Giden kutusu özeti', pending: 'bekleyen', submitted: 'gönderilen', done: 'tamam', failed: 'başarısız', overdue: 'gecikmiş', nearest: 'En yakın son gün',
    allowLastHour: 'İZİN (son saat)', blockLastHour: 'ENGEL (son saat)', perSecondReason: 'Saniyede karar, nedene göre', perSecondEntrance: 'Saniyede karar, girişe göre',
    topReasons: 'En sık nedenler', entrance: 'Giriş', reason: 'Neden', decision: 'Karar', count: 'Sayı', share: 'Pay', noDecisions: 'Son saatte karar yok.',
    deadline: 'Son gün', daysLeft: 'Kalan', state: 'Durum', origin: 'Köken', recipient: 'Alıcı', status: 'İzin durumu', received: 'Alındı', error: 'Hata',
    downloadCsv: 'CSV indir', emptyOutbox: 'Giden kutusu boş.', item: 'öğe',
    job: 'İş', created: 'Oluşturuldu', progress: 'İlerleme', rate: 'Hız', perSecond: 'satır/sn', report: 'Rapor', downloadReport: 'Raporu indir', noJobs: 'Yükleme işi yok.', validated: 'doğrulanan', sent: 'gönderilen', confirmed: 'onaylanan', total: 'toplam',
    lookupHelp: 'Bir telefon numarası veya e-posta adresi, herhangi bir yazımla.', search: 'Sorgula', auto: 'otomatik', recipientType: 'Alıcı tipi',
    normalized: 'Normal biçim', checkNow: '/v1/check şu an ne der', records: 'Kayıtlar', movements: 'Hareketler', noRecord: 'kayıt yok', source: 'Kaynak', consentDate: 'İzin tarihi', creationDate: 'Oluşturma',
    review: 'Ret incelemesi', from: 'Gönderen', to: 'Alıcı numara', text: 'Metin', due: 'Son gün', action: 'İşlem', open: 'açık', refuse: 'Reddet (RET kaydet)', dismiss: 'Yok say',
    refused: 'RET kaydedildi', dismissed: 'yok sayıldı', emptyReview: 'İncelenecek yanıt yok.', readOnlyReview: 'salt okunur: işlem için anahtarın rejections kapsamı olmalı',
    logSearch: 'Karar kaydında ara', logEmpty: 'Kayıt bulunamadı.', time: 'Zaman',
    TICARI: 'TİCARİ', BILGILENDIRME: 'BİLGİLENDİRME', ALLOW: 'İZİN', BLOCK: 'ENGEL',
  },
  en: {
    title: 'iys-gate console', skip: 'Skip to content', signIn: 'Sign in', signOut: 'Sign out', apiKey: 'API key',
    signInHelp: 'Enter a key with scope console. It is kept in this tab only (sessionStorage).',
    badKey: 'The key is not valid (401).', forbiddenKey: 'This key lacks scope console (403).', netError: 'The gateway could not be reached',
    overview: 'Overview', decisions: 'Decisions', outbox: 'Outbox', uploads: 'Uploads', lookup: 'Lookup',
    language: 'Türkçe', languageLabel: 'Switch to Turkish', refresh: 'Refresh', loading: 'Loading…', brand: 'Brand', allBrands: 'All brands',
    signedInAs: 'Signed in', readOnly: 'read-only',
    store: 'Store', kind: 'Kind', reachable: 'Reachable', yes: 'yes', no: 'no', readiness: 'Readiness', ready: 'ready', notReady: 'not ready',
    mirror: 'Mirror', consents: 'Consent records', asOf: 'As of', age: 'Age', bound: 'Bound', stale: 'STALE', fresh: 'fresh', noBound: 'no bound',
    byType: 'Records by type', type: 'Type', notCounted: 'not counted (mirror too large)',
    sync: 'İYS sync', cursorHS: 'Cursor HS', cursorIYS: 'Cursor IYS', lastPull: 'Last pull', lastPush: 'Last push', pulled: 'Pulled', deadLetters: 'Dead letters', lastError: 'Last error', never: 'never', iysOff: 'No İYS account configured',
    cache: 'Cache (Redis)', serving: 'Serving', entries: 'Entries', hitRatio: 'Hit ratio', noCache: 'embedded store: no cache',
    outboxSummary: 'Outbox summary', pending: 'pending', submitted: 'submitted', done: 'done', failed: 'failed', overdue: 'overdue', nearest: 'Nearest deadline',
    allowLastHour: 'ALLOW (last hour)', blockLastHour: 'BLOCK (last hour)', perSecondReason: 'Decisions per second by reason', perSecondEntrance: 'Decisions per second by entrance',
    topReasons: 'Top reasons', entrance: 'Entrance', reason: 'Reason', decision: 'Decision', count: 'Count', share: 'Share', noDecisions: 'No decisions in the last hour.',
    deadline: 'Deadline', daysLeft: 'Left', state: 'State', origin: 'Origin', recipient: 'Recipient', status: 'Status', received: 'Received', error: 'Error',
    downloadCsv: 'Download CSV', emptyOutbox: 'The outbox is empty.', item: 'item',
    job: 'Job', created: 'Created', progress: 'Progress', rate: 'Rate', perSecond: 'rows/s', report: 'Report', downloadReport: 'Download report', noJobs: 'No upload jobs.', validated: 'validated', sent: 'sent', confirmed: 'confirmed', total: 'total',
    lookupHelp: 'A phone number or e-mail address, in any spelling.', search: 'Look up', auto: 'automatic', recipientType: 'Recipient type',
    normalized: 'Normalized', checkNow: 'What /v1/check answers now', records: 'Records', movements: 'Movements', noRecord: 'no record', source: 'Source', consentDate: 'Consent date', creationDate: 'Created',
    review: 'Opt-out review', from: 'From', to: 'To', text: 'Text', due: 'Due', action: 'Action', open: 'open', refuse: 'Refuse (record RET)', dismiss: 'Dismiss',
    refused: 'refused', dismissed: 'dismissed', emptyReview: 'No replies to review.', readOnlyReview: 'read-only: acting needs a key with scope rejections',
    logSearch: 'Search the decision log', logEmpty: 'No records found.', time: 'Time',
    TICARI: 'TICARI', BILGILENDIRME: 'BILGILENDIRME', ALLOW: 'ALLOW', BLOCK: 'BLOCK',
  },
};

let lang = 'tr';

/** The current language, `tr` or `en`. */
export function getLang() { return lang; }

/** Sets the language (anything but `en` is Turkish). */
export function setLang(l) { lang = l === 'en' ? 'en' : 'tr'; }

/** The word for `key` in the current language. */
export function t(key) {
  return WORDS[lang][key] ?? WORDS.tr[key] ?? key;
}
