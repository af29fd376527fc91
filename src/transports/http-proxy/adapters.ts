import { asteriskAri } from './asterisk-ari.ts';
import { iletimerkezi } from './iletimerkezi.ts';
import { netgsmSantral } from './netgsm-santral.ts';
import { netgsm } from './netgsm.ts';
import { sendgrid } from './sendgrid.ts';
import type { AdapterName, ProviderAdapter } from './types.ts';
import { verimor } from './verimor.ts';
import { verimorSwitch } from './verimor-switch.ts';
import { webhook } from './webhook.ts';

/** Adapter by API.md `upstreams[].adapter` name. */
export const ADAPTERS: Readonly<Record<AdapterName, ProviderAdapter>> = {
  netgsm, iletimerkezi, verimor, sendgrid, webhook, 'verimor-switch': verimorSwitch, 'netgsm-santral': netgsmSantral, 'asterisk-ari': asteriskAri,
};
