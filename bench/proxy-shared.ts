/** Constants shared by bench/proxy.bench.ts and bench/proxy-servers.ts. */
export const BENCH_BRAND = 7;
export const BENCH_KEY = 'bench-proxy-key-0123456789abcdef';
/** The i-th bench recipient, national form as Netgsm's `no` takes it. */
export const benchNo = (i: number) => `555${String(i).padStart(7, '0')}`;
