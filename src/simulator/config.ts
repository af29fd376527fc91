/**
 * Configuration of the İYS simulator: accounts (service providers with their brands and
 * dealers), limits, delays and relaxations. Validated with zod; unknown keys are an error.
 */
import { z } from 'zod';

const subscriptionSchema = z.object({
  /** İYS subscription status; `NONE` = no subscription record (H524). */
  status: z.enum(['ACTIVE', 'PAUSED', 'EXPIRED', 'CLOSED', 'NONE']).default('ACTIVE'),
  /** Package includes API use (else H586). */
  apiIncluded: z.boolean().default(true),
  /** Most distinct consent keys the account may hold (H525). 0 = unlimited. */
  consentLimit: z.number().int().min(0).default(0),
  packageName: z.string().default('SIMULATOR'),
}).strict();

export const accountSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  /** The provider's İYS number. */
  iysCode: z.number().int().positive(),
  title: z.string().default('Simulator Provider'),
  /** Brands; the first with `master: true` (or the first) is the master brand. */
  brands: z.array(z.object({
    brandCode: z.number().int().positive(),
    name: z.string(),
    master: z.boolean().default(false),
  }).strict()).min(1),
  /** Dealer codes (8 digits) of this provider; anything else in retailerCode/Access is H180. */
  retailers: z.array(z.number().int()).default([]),
  subscription: subscriptionSchema.default({}),
  /** Role in the token; `admin` is refused at token time ("Beklenmeyen kullanıcı rolü"). */
  role: z.enum(['API_USER', 'admin']).default('API_USER'),
}).strict();
export type SimAccount = z.infer<typeof accountSchema>;

export const simulatorOptionsSchema = z.object({
  /** Listen port; default IYS_GATE_SIM_PORT or 8090; 0 = any free port. */
  port: z.number().int().min(0).max(65535).optional(),
  /** Listen host; default 127.0.0.1. */
  host: z.string().optional(),
  /** Accounts; empty or absent = the demo account {@link DEMO_ACCOUNT}. */
  accounts: z.array(accountSchema).optional(),
  /** Directory where state is loaded from at start and saved to at close; absent = memory only. */
  dataDir: z.string().optional(),
  /** Initial simulated time (ISO 8601) and whether the clock starts frozen. */
  clockStartAt: z.string().datetime({ offset: true }).optional(),
  clockFrozen: z.boolean().default(false),
  /** Delay before batch items are processed, in simulated ms (İYS: poll no earlier than 300 s). */
  batchDelayMs: z.number().int().min(0).default(300_000),
  /** Limits per client IP; 0 disables that limit. */
  perSecondLimit: z.number().int().min(0).default(10),
  tokenPerHourLimit: z.number().int().min(0).default(100),
  statusPerHourLimit: z.number().int().min(0).default(1000),
  historyPerHourLimit: z.number().int().min(0).default(100),
  /** Access / refresh token lifetimes in ms (İYS: 2 h / 4 h). */
  accessTokenTtlMs: z.number().int().positive().default(7_200_000),
  refreshTokenTtlMs: z.number().int().positive().default(14_400_000),
  /** Push: accept plain http URLs (simulator-only relaxation for local tests; İYS answers H531). */
  pushAllowHttp: z.boolean().default(false),
  /** Push: TLS certificate checks on delivery (false for self-signed local receivers). */
  pushVerifyTls: z.boolean().default(true),
  /** Push request timeout in real ms (İYS: 5 s). */
  pushTimeoutMs: z.number().int().positive().default(5000),
  /** H467: enforce the 3-business-day upload window, and sources exempt from it. */
  h467Enabled: z.boolean().default(true),
  h467ExemptSources: z.array(z.string()).default(['HS_2015']),
  /** fastify logger; false = silent. */
  logger: z.boolean().default(false),
}).strict();
export type SimulatorOptions = z.input<typeof simulatorOptionsSchema>;
export type SimulatorConfig = z.output<typeof simulatorOptionsSchema>;

/**
 * The documented demo account used when no account is configured, so a new user can point the
 * gateway at the simulator in one command: username `iys-demo`, password `iys-demo-password`,
 * iysCode 700001, brands 700001 (master) and 700002, dealer 12345678.
 */
export const DEMO_ACCOUNT: SimAccount = {
  username: 'iys-demo',
  password: 'iys-demo-password',
  iysCode: 700001,
  title: 'Demo Hizmet Sağlayıcı A.Ş.',
  brands: [
    { brandCode: 700001, name: 'Demo Marka', master: true },
    { brandCode: 700002, name: 'Demo Alt Marka', master: false },
  ],
  retailers: [12345678],
  subscription: { status: 'ACTIVE', apiIncluded: true, consentLimit: 0, packageName: 'SIMULATOR' },
  role: 'API_USER',
};
