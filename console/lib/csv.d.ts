/** Types of csv.js. */
export function csvField(v: unknown): string;
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string;
