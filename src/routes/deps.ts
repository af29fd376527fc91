import type { GatewayConfig } from '../config/schema.ts';
import type { CheckService } from '../check/check-service.ts';
import type { IysIntegration } from '../iys/integration.ts';
import type { ConsentStore } from '../mirror/consent-store.ts';
import type { GatewayMetrics } from '../plugins/metrics.ts';
import type { InboundDoor } from '../transports/inbound/index.ts';

/** What routes need, built once by app.ts and passed as plugin options. */
export interface RouteDeps {
  config: GatewayConfig;
  store: ConsentStore;
  checks: CheckService;
  metrics: GatewayMetrics;
  /** Brands this gateway serves (config `iys.brands`), used when a `*` key omits brandCode. */
  servedBrands: readonly number[];
  /** Outbox, sync workers and uploader (outbox always present). */
  iys: IysIntegration;
  /** The inbound door (replies read for refusals): its review counts show in /v1/sync/status. */
  inbound?: InboundDoor;
  /** Clock (epoch ms); Date.now outside tests. */
  now: () => number;
}
