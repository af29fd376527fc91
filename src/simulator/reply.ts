/** Reply helpers and per-request account lookup shared by the simulator's route plugins. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SimAccount } from './config.ts';
import { hError, hStatus, type HCode, type IysErrorItem } from '../iys/h-codes.ts';

const accounts = new WeakMap<FastifyRequest, SimAccount>();

/** Marks `req` as authenticated for `a` (auth hook). */
export function setAccount(req: FastifyRequest, a: SimAccount): void {
  accounts.set(req, a);
}

/** The account authenticated for this request. @throws Error when the route has no auth */
export function accountOf(req: FastifyRequest): SimAccount {
  const a = accounts.get(req);
  if (!a) throw new Error('no authenticated account on this request');
  return a;
}

/** Sends İYS's error envelope `{errors:[…]}` with the status of the first code (or `status`). */
export function sendErrors(reply: FastifyReply, errors: IysErrorItem[], status?: number): FastifyReply {
  return reply.code(status ?? hStatus(errors[0]?.code ?? 'H015')).type('application/json').send({ errors });
}

/** Shorthand: one coded error with İYS's message. */
export function sendError(reply: FastifyReply, code: HCode, extra: Omit<IysErrorItem, 'code' | 'message'> = {}): FastifyReply {
  return sendErrors(reply, [hError(code, extra)]);
}

/** Integer path parameter (validated by the auth hook). */
export function intParam(req: FastifyRequest, name: string): number {
  return Number((req.params as Record<string, string>)[name]);
}
