/** Types of business-days.js (the console's own code, plain ES module). */
export interface ConsoleCalendarInput { holidays: readonly { date: string; half: boolean }[]; halfDayPolicy?: 'business' | 'holiday'; coveredYears: { from: number; to: number } }
export interface ConsoleCalendar { isBusinessDay(date: string): boolean | null; businessDaysLeft(today: string, deadline: string): number | null }
export function toDay(date: string): number | undefined;
export function fromDay(day: number): string;
export function makeCalendar(cal: ConsoleCalendarInput): ConsoleCalendar;
