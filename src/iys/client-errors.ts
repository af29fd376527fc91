/**
 * Errors the İYS client throws: our coded errors (src/errors.ts, `GW_ERR_IYS_*`) carrying what
 * İYS answered. Callers branch on `err.code` and, for İYS refusals, on `err.iysCodes`.
 */
import { gatewayError, type ErrorCode, type GatewayError } from '../errors.ts';
import type { IysErrorItem } from './h-codes.ts';

/** A client error: HTTP status İYS answered (if any) and its error items. */
export interface IysClientError extends GatewayError {
  /** İYS's HTTP status, or undefined when no answer came (timeout, connection). */
  iysStatus?: number;
  /** İYS's error items (or the local pre-validation's). */
  iysErrors: IysErrorItem[];
  /** Codes of `iysErrors`, e.g. `['H175']`. */
  iysCodes: string[];
}

/** Builds an {@link IysClientError}. */
export function iysClientError(
  code: ErrorCode, args: readonly unknown[], extra: { status?: number; errors?: IysErrorItem[]; cause?: unknown } = {},
): IysClientError {
  const err = gatewayError(code, args, extra.cause === undefined ? {} : { cause: extra.cause }) as IysClientError;
  err.iysErrors = extra.errors ?? [];
  err.iysCodes = err.iysErrors.map((e) => e.code);
  if (extra.status !== undefined) err.iysStatus = extra.status;
  return err;
}

/** True when `err` is a client error whose İYS codes include `code`. */
export function hasIysCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && Array.isArray((err as IysClientError).iysCodes)
    && (err as IysClientError).iysCodes.includes(code);
}
