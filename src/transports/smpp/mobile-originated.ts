import { createHash } from 'node:crypto';

/**
 * Mobile-originated (MO) messages seen by the SMPP front: a reply a recipient sent to a short
 * code or long number. The opt-out capture of the inbound-refusal issue (issue 14: a `RET` /
 * `İPTAL` reply becomes a refusal through `recordRefusal`) plugs in here (server.ts hands MO to
 * `handleInboundReply`); the front relays every MO to its ESME whatever the handler does.
 */

/** One MO message, decoded. `from` is the sender (the recipient of the earlier campaign). */
export interface MobileOriginated {
  /** Sender address as normalizable text (TON/NPI applied: `+90…` for international). */
  from: string;
  /** The short code / long number it was sent to (source_addr of the campaign). */
  to: string;
  /** Decoded text (UDH stripped); null when the coding cannot be read. */
  text: string | null;
  /** Epoch ms the gate received it. */
  receivedAt: number;
  /** SMSC message id when the upstream gave one (receipted_message_id), else null. */
  messageId: string | null;
  /** Upstream SMSC name (`smpp.upstreams[].name`) it came from. */
  via: string;
  /** system_id of the ESME it is relayed to (null when no bind takes MO of that upstream). */
  systemId: string | null;
}

/**
 * Receives MO messages; may be async. The upstream's deliver_sm_resp waits for it to settle; a
 * rejection is logged and answered with the temporary status (the SMSC delivers it again).
 */
export type MobileOriginatedHandler = (mo: MobileOriginated) => void | Promise<void>;

/** The default until the inbound opt-out capture exists: nothing beyond the relay to the ESME. */
export const relayOnly: MobileOriginatedHandler = () => {};

/**
 * The id an MO is de-duplicated by downstream: the SMSC's id when it gave one, else a hash of
 * sender, destination and text (an SMSC that delivers the same MO again gets the same id).
 */
export function moMessageId(mo: MobileOriginated): string {
  if (mo.messageId) return mo.messageId;
  return 'mo-' + createHash('sha256').update(`${mo.from}\u0000${mo.to}\u0000${mo.text ?? ''}`).digest('hex').slice(0, 32);
}
