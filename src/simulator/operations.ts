/**
 * Which operations of the official İYS description (iys-openapi-3.2.0.json) the simulator
 * implements, and which it leaves out and why. test/simulator/conformance.test.ts checks this
 * list against the description and against the registered routes.
 */

/** Operations issue 5 requires (the simulator's scope). */
export const REQUIRED_OPERATIONS = [
  'createToken2',
  'addConsent', 'addConsentV2', 'addBatchConsent', 'addBatchConsentV2',
  'searchRequestDetails', 'searchRequestDetailsV2',
  'consentDetail', 'batchConsentStatus', 'consentsHistory', 'PullPerBrandCode',
  'pushRegistration', 'getPushRegistration', 'pushUnregistration',
  'agreementFile', 'agreementsDate', 'agreementDatePut',
  'getBrandsDetails',
] as const;

/** Implemented beyond the required scope. */
export const EXTRA_OPERATIONS = ['changeSummary', 'agreementTimeStamp', 'get-subscription'] as const;

export const IMPLEMENTED_OPERATIONS: readonly string[] = [...REQUIRED_OPERATIONS, ...EXTRA_OPERATIONS];

/** Not implemented, with the reason (not needed by a pre-send gateway). */
export const NOT_IMPLEMENTED: Readonly<Record<string, string>> = {
  'dealers and dealer access': 'addRetailers, overrideRetailers, searchRetailersOfOneConsent, removeRelationBetweenRetailer, removeRelationsBetweenRetailersAndConsents, createRetailer, searchRetailers, searchSingleRetailer, deleteRetailer: dealers are configured per account instead',
  'city/town info': 'getTowns, townDetails, getCities, cityDetails: reference data for dealer records',
  integrator: 'integratorList, integratorListByiysCode, getIntegratorSubscription: partner (integrator) accounts, production only',
  'ViA / ViA PASS / ViA Frame': 'İYS-run consent collection (via/*, otp-management/*, widget/*, via-hash-links): reaches the provider only as IYS_* movements, which the admin API produces',
};
