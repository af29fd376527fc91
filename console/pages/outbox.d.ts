/** Types of outbox.js (the parts the unit tests use). */
import type { ConsoleCalendarInput } from '../lib/business-days.js';
export interface OutboxRow { item: { id: string; deadline: string | null; state: string; [k: string]: unknown }; left: number | null; overdue: boolean }
export function outboxRows(items: readonly Record<string, unknown>[], cal: ConsoleCalendarInput, today: string): OutboxRow[];
export const CSV_HEADER: string[];
export function csvRow(row: OutboxRow): unknown[];
export function render(ctx: unknown): Promise<unknown>;
