/** Types of format.js. */
type Lang = 'tr' | 'en';
export function formatDateTime(at: string | number | Date | null | undefined, lang?: Lang): string;
export function formatDate(date: string | null | undefined, lang?: Lang): string;
export function formatTime(at: number, lang?: Lang): string;
export function formatNumber(n: number | null | undefined, lang?: Lang, digits?: number): string;
export function formatPercent(x: number, lang?: Lang): string;
export function formatDuration(ms: number | null | undefined, lang?: Lang): string;
export function formatDaysLeft(n: number | null | undefined, lang?: Lang): string;
