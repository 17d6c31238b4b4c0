/** Error codes of the payments domain (prefix PAYMENTS_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const paymentsErrors = {} as const;
