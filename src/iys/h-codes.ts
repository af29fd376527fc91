/**
 * İYS H-codes used by the simulator and the client: HTTP status, İYS's own (Turkish) message and
 * whether a client may retry. Messages are İYS's texts from the official API description
 * (iys-openapi-3.2.0.json, tag "HATA KODLARI" and operation examples); statuses from the same
 * examples and iys-reference.md §4.6. Retryable set: iys-reference.md §2.11 (5xx, H123, H124,
 * H083, H192) — H084 is a rate limit but must NOT be retried (one-hour penalty).
 */
export interface HCodeDef {
  /** HTTP status İYS answers with. */
  readonly status: number;
  /** İYS's message text. */
  readonly message: string;
  /** True when a client may retry the same request after a back-off. */
  readonly retryable: boolean;
}

const d = (status: number, message: string, retryable = false): HCodeDef => ({ status, message, retryable });

export const H_CODES = {
  H001: d(404, 'Hizmet Sağlayıcı bulunamadı.'),
  H014: d(400, 'Gönderilen istek json formatına uygun değil!'),
  H015: d(500, 'Beklenmedik bir hata oluştu!', true),
  H083: d(429, 'Saniyede kabul edilen istek limitinine ulaşıldı. Lütfen daha sonra tekrar deneyiniz.', true),
  H084: d(429, 'Saatlik jeton alma limitine ulaşıldı. Lütfen bir saat sonra tekrar deneyiniz.'),
  H085: d(400, 'İzin ekleme isteği geçerli olmalıdır.'),
  H086: d(429, 'Saatlik izin sorgulama limitine ulaşıldı.'),
  H089: d(429, 'Saatlik izin geçmişi sorgulama limitine ulaşıldı.'),
  H091: d(422, 'İzin ekleme sayısı en fazla 1000 olmalıdır.'),
  H092: d(400, 'Çoklu izin ekleme isteği geçerli olmalıdır.'),
  H093: d(422, 'Kullanıcı adı (username) veya şifre (password) bulunamadı.'),
  H097: d(400, 'İzin sorgulama isteği geçerli olmalıdır.'),
  H101: d(500, 'Ana veri kaydedilemedi.', true),
  H103: d(500, 'Arama işlemi başarısız oldu.', true),
  H110: d(422, 'Durum (status) bulunamadı.'),
  H111: d(422, 'İzin tipi (type) bulunamadı.'),
  H112: d(422, 'İzin tarihi (consentDate) bulunamadı.'),
  H113: d(422, 'İzin kaynağı (source) bulunamadı.'),
  H114: d(422, 'Alıcı (recipient) bulunamadı.'),
  H115: d(422, 'Durum (status) için uygun değerler: ONAY, RET'),
  H116: d(422, 'Alıcı tipi (recipientType) için uygun değerler: BIREYSEL, TACIR'),
  H117: d(422, 'İzin tipi (type) için uygun değerler: ARAMA, MESAJ, EPOSTA'),
  H118: d(422, 'kabul edilemedi. İstek gövdesinde bulunabilecek değerler: recipientType, retailerAccess, recipient, retailerCode, source, type, consentDate, status olmalıdır.'),
  H119: d(422, 'İzin kaynağı (source) için uygun değerler: HS_FIZIKSEL_ORTAM, HS_ISLAK_IMZA, HS_WEB, HS_CAGRI_MERKEZI, HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MESAJ, HS_MOBIL, HS_EORTAM, HS_ETKINLIK, HS_2015, HS_ATM, HS_KARAR'),
  H120: d(422, 'Alıcı (recipient) kabul edilemedi. Geçerli bir eposta adresi giriniz.'),
  H121: d(422, 'Alıcı (recipient) için E164 uluslararası([+][country code][area code][local phone number]) formatına uygun bir telefon numarası girilmelidir. (örn. +905992000000)'),
  H122: d(422, 'Alıcı (recipient) telefon numarası veya eposta adresi olmalıdır.'),
  H123: d(400, 'Servis şu anda meşgul. Lütfen daha sonra tekrar deneyiniz.', true),
  H124: d(429, 'Saniyede kabul edilen istek limitine ulaşıldı. Lütfen daha sonra tekrar deneyiniz.', true),
  H126: d(422, 'İzin erişimi olan bayilerin (retailer) liste uzunluğu en fazla 3000 olmalıdır.'),
  H127: d(422, 'Alıcı listesi (recipients) uzunluğu sınırı aşıldı.'),
  H155: d(422, 'İzin kaynağı “1 Mayıs 2015 öncesi” olan izinler için, izin tarihi sadece 2015-05-01 00:00:00 olabilir.'),
  H156: d(422, 'İzinler için 1 Mayıs 2015’den önceki tarihler kabul edilmemektedir.'),
  H157: d(422, 'Geçerli bir tarih girilmelidir.'),
  H158: d(422, 'Tarih formatı YYYY-MM-DD HH:mm:ss şeklinde olmalıdır.'),
  H160: d(422, 'Alıcı için telefon numaraları 15 karakterden uzun olmamalıdır.'),
  H162: d(422, 'Mevcut tarih ve saatten ileri bir tarih ve saat girilmemelidir.'),
  H163: d(422, 'İzin erişimi olan bayilerin (retailer) listesi boş olmamalıdır.'),
  H164: d(422, 'Alıcı listesi (recipients) kabul edilemedi. Liste boş olmamalıdır.'),
  H166: d(422, 'Alıcı için telefon numaraları 15 karakterden uzun olmamalıdır.'),
  H168: d(422, 'Alıcı listesi (recipients) bulunamadı.'),
  H170: d(422, 'Alıcı tipi (recipientType) bulunamadı.'),
  H174: d(400, 'İzin durumu (status) güncellemesi için farklı bir durum girilmelidir. İzin durumu: RET'),
  H175: d(400, 'İlk defa kaydedilen bir iznin durum (status) bilgisi RET olmamalıdır.'),
  H178: d(400, 'Sistemdeki iznin tarihinden önceki tarihli izinlerle güncelleme yapılamaz.'),
  H180: d(403, 'retailerCode kullanıcı üzerinde bulunamadı.'),
  H182: d(422, 'limit değeri geçerli olmalıdır.'),
  H183: d(422, 'offset değeri geçerli olmalıdır.'),
  H186: d(422, 'Sayfalama (pagination) değeri en fazla 100 olabilir.'),
  H187: d(422, 'Limit değerleri sıfır olmamalıdır.'),
  H190: d(422, 'iysCode tam sayı olmalıdır.'),
  H191: d(422, 'Bağlantı zaman aşımına uğradı.'),
  H192: d(503, 'İşlem zaman aşımına uğradı.', true),
  H193: d(422, 'Alıcı (recipient) değeri liste içinde tekrarlanamaz.'),
  H194: d(422, 'İzin listede daha önce tanımlandı. Liste içinde izinler alıcı tipi (recipientType), tip (type) ve alıcı (recipient) değerleri için tekrarlanamaz.'),
  H198: d(422, 'requestId 36 karakterden daha uzun olamaz.'),
  H199: d(422, 'requestId sadece harflerden meydana gelemez.'),
  H266: d(400, 'retailerCode değeri istek üzerinde bulunamadı.'),
  H267: d(400, 'retailerCode değeri boş string olmamalıdır!'),
  H351: d(401, 'Eksik veya geçersiz jeton!'),
  H353: d(403, 'iysCode, kullanıcı izinleriyle eşleştiriliemiyor'),
  H400: d(422, 'requestId sadece sayılardan meydana gelemez.'),
  H408: d(422, 'HS_KARAR kaynağından iletilen izinler için durum bilgisi RET olmalıdır.'),
  H412: d(500, 'Beklenmedik bir hata oluştu.', true),
  H437: d(404, 'IYS numarası ile abonelik bulunamadı.'),
  H462: d(400, 'TACIR izinleri güncellenirken izin tarihi (consentDate) verilmelidir.'),
  H463: d(400, 'TACIR izinleri güncellenirken izin kaynağı (source) verilmelidir.'),
  H464: d(422, 'İzin tipi (type) ile alıcı (recipient) formatı uyuşmamaktadır.'),
  H467: d(422, 'Üç iş günü öncesinde alınan izinler kaydedilemez.'),
  H470: d(500, 'Beklenmedik bir hata oluştu.', true),
  H478: d(422, 'Alıcı listesi (recipients) liste olmalıdır.'),
  H501: d(422, 'Tarih formatı yyyy-aa-gg şeklinde olmalıdır.'),
  H502: d(422, 'reportDate alanı en fazla 7 gün önce olabilir.'),
  H506: d(422, 'İzin kaynağı (source) bulunamadı.'),
  H507: d(422, 'limit alanı için karakter üst sınırı 1000 olmalıdır.'),
  H512: d(422, 'false kabul edilemedi. İzin verilen değerler: true'),
  H520: d(403, 'Abonelik durumu PAUSED veya EXPIRED iken sadece abonelik sorgulama servisine istek atılabilir.'),
  H521: d(403, 'Abonelik durumu CLOSED iken api kullanılamamaktadır.'),
  H524: d(403, 'Abonelik kaydı bulunamadı.'),
  H525: d(422, 'Kullanılan izin sayısı maksimum sayıya ulaştığı için yeni izin eklenememektedir.'),
  H530: d(422, 'Bağlantı oluşturulamadı.'),
  H531: d(422, 'Bağlantı linki (url) https ile başlamalıdır.'),
  H586: d(403, 'Aboneliğiniz API kullanımını içermemektedir.'),
} as const satisfies Record<string, HCodeDef>;

export type HCode = keyof typeof H_CODES;

/** One item of İYS's error envelope `{"errors":[…]}` (reference §2). */
export interface IysErrorItem {
  code: string;
  message: string;
  /** Path of the field at fault, e.g. `["retailerAccess", 0]`. */
  location?: (string | number)[];
  /** The offending value as received. */
  value?: unknown;
  /** Position in a batch list. */
  index?: number;
}

/** İYS's error envelope. */
export interface IysErrorEnvelope {
  errors: IysErrorItem[];
}

/**
 * Builds one error item for `code` with İYS's message.
 * @param extra optional `location`, `value`, `index`
 */
export function hError(code: HCode, extra: Omit<IysErrorItem, 'code' | 'message'> = {}): IysErrorItem {
  return { code, message: H_CODES[code].message, ...extra };
}

/** HTTP status for an H-code; 400 for unknown codes. */
export function hStatus(code: string): number {
  return (H_CODES as Record<string, HCodeDef>)[code]?.status ?? 400;
}

/**
 * True when a failed call may be retried: HTTP 5xx, 429 except H084, or a retryable H-code
 * (H123, H124, H083, H192, H015, H101, H103, H412, H470). Never any other 4xx.
 */
export function isRetryable(status: number, codes: readonly string[]): boolean {
  if (codes.includes('H084')) return false;
  if (status >= 500 || status === 429) return true;
  return codes.some((c) => (H_CODES as Record<string, HCodeDef>)[c]?.retryable === true);
}
