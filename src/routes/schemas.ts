import { CONSENT_SOURCES, CONSENT_STATUSES, CONSENT_TYPES, DECISIONS, MESSAGE_TYPES, REASONS, RECIPIENT_TYPES } from '../domain/types.ts';

/**
 * JSON Schemas of the public API. The same objects validate requests (fastify/ajv, compiled once)
 * and generate the OpenAPI description at GET /openapi.json (@fastify/swagger), so the two cannot
 * drift. Unknown fields are rejected (`additionalProperties: false`, ajv `removeAdditional: false`).
 */
export const brandCode = { type: 'integer', minimum: 1, maximum: 999999999 } as const;
export const type = { type: 'string', enum: CONSENT_TYPES } as const;
export const recipientType = { type: 'string', enum: RECIPIENT_TYPES, default: 'BIREYSEL' } as const;
export const messageType = { type: 'string', enum: MESSAGE_TYPES, default: 'TICARI' } as const;
export const retailerCode = { type: 'integer', minimum: 1 } as const;
export const recipient = { type: 'string', maxLength: 320, description: 'Phone number (any common spelling) or e-mail address' } as const;

export const errorResponse = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' }, code: { type: 'string' }, error: { type: 'string' },
    message: { type: 'string' }, field: { type: 'string' },
  },
  required: ['statusCode', 'code', 'error', 'message'],
} as const;

const consent = {
  type: ['object', 'null'],
  properties: {
    status: { type: 'string', enum: CONSENT_STATUSES },
    source: { type: ['string', 'null'], enum: [...CONSENT_SOURCES, null] },
    consentDate: { type: ['string', 'null'] },
    creationDate: { type: ['string', 'null'] },
    transactionId: { type: ['string', 'null'] },
  },
} as const;

export const checkBody = {
  type: 'object',
  additionalProperties: false,
  required: ['recipient', 'type'],
  properties: { brandCode, recipient, type, recipientType, messageType, retailerCode },
} as const;

export const checkResponse = {
  type: 'object',
  properties: {
    decision: { type: 'string', enum: DECISIONS },
    reason: { type: 'string', enum: REASONS },
    recipient: { type: 'string' },
    consent,
    asOf: { type: ['string', 'null'] },
    decisionId: { type: 'string' },
  },
} as const;

export const batchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'recipients'],
  properties: {
    brandCode, type, recipientType, messageType, retailerCode,
    // no maxLength per item: an over-long input is that item's BLOCK INVALID_RECIPIENT, not a 400 for the batch
    recipients: { type: 'array', minItems: 1, items: { type: 'string' }, description: '1 to batchMaxRecipients (default 10,000)' },
  },
} as const;

export const batchResponse = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          input: { type: 'string' }, recipient: { type: ['string', 'null'] },
          decision: { type: 'string', enum: DECISIONS }, reason: { type: 'string', enum: REASONS },
        },
      },
    },
    counts: { type: 'object', properties: { ALLOW: { type: 'integer' }, BLOCK: { type: 'integer' } } },
    asOf: { type: ['string', 'null'] },
    decisionId: { type: 'string' },
  },
} as const;

export const rejectionBody = {
  type: 'object',
  additionalProperties: false,
  required: ['recipient', 'type'],
  properties: {
    brandCode, recipient, type, recipientType,
    source: { type: 'string', enum: CONSENT_SOURCES.filter((s) => s.startsWith('HS_') && s !== 'HS_2015') },
    receivedAt: { type: 'string', format: 'date-time', description: 'ISO 8601; default now' },
  },
} as const;

export const rejectionResponse = {
  type: 'object',
  properties: {
    recipient: { type: 'string' }, type: { type: 'string' }, recipientType: { type: 'string' },
    status: { type: 'string' }, reportDeadline: { type: ['string', 'null'] },
    consentDate: { type: 'string' }, outcome: { type: 'string', enum: ['applied', 'ignoredOlder', 'duplicate'] },
    queued: { type: 'boolean', description: 'false when İYS can never register the address (H120): blocked here only' },
    deadlineError: { type: 'string', description: 'GW_ERR_CALENDAR_OUT_OF_RANGE when receivedAt is outside the holiday table' },
  },
} as const;

export const consentsQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'recipient'],
  properties: {
    brandCode, type, recipientType, recipient,
    at: { type: 'string', maxLength: 40, description: 'A past time (ISO 8601 with offset, or epoch ms): the record as the mirror held it then, from the movement history' },
  },
} as const;

export const importQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['brandCode'],
  properties: { brandCode },
} as const;
