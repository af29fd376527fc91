/**
 * The `smpp` package (node-smpp, CommonJS, no bundled types): the parts iys-gate and its tests use.
 * Source: node_modules/smpp/lib/smpp.js, pdu.js, defs.js (v0.5).
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Socket } from 'node:net';
  /** A decoded PDU: header fields plus every mandatory parameter and TLV by its name. */
  export class PDU {
    constructor(command: string | Buffer, options?: Record<string, unknown>);
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
    toBuffer(): Buffer;
    static maxLength: number;
  }
  export class Session extends EventEmitter {
    socket: Socket;
    server?: Server;
    send(pdu: PDU, onResponse?: (pdu: PDU) => void, onSend?: (pdu: PDU) => void): boolean;
    close(cb?: () => void): void;
    destroy(cb?: () => void): void;
    pause(): void;
    resume(): void;
    [command: string]: unknown;
  }
  export interface Server extends EventEmitter {
    sessions: Session[];
    listen(port: number, host?: string, cb?: () => void): this;
    address(): { port: number; address: string } | string | null;
    close(cb?: (err?: Error) => void): this;
  }
  export function createServer(options: Record<string, unknown>, listener?: (s: Session) => void): Server;
  export function createServer(listener?: (s: Session) => void): Server;
  export function connect(options: Record<string, unknown> | string, listener?: () => void): Session;
  export const commands: Record<string, { id: number }>;
  export const errors: Record<string, number>;
  export const consts: Record<string, Record<string, number>>;
  const smpp: {
    PDU: typeof PDU; Session: typeof Session;
    createServer: typeof createServer; connect: typeof connect;
    commands: typeof commands; errors: typeof errors; consts: typeof consts;
    [name: string]: unknown;
  };
  export default smpp;
}
