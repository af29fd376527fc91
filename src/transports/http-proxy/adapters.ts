import { iletimerkezi } from './iletimerkezi.ts';
import { netgsm } from './netgsm.ts';
import { sendgrid } from './sendgrid.ts';
import type { AdapterName, ProviderAdapter } from './types.ts';
import { verimor } from './verimor.ts';
import { webhook } from './webhook.ts';

/** Adapter by API.md `upstreams[].adapter` name. */
export const ADAPTERS: Readonly<Record<AdapterName, ProviderAdapter>> = { netgsm, iletimerkezi, verimor, sendgrid, webhook };
