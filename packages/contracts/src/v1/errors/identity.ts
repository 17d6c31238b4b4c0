/** Error codes of the identity domain (prefix IDENTITY_ or AUTH_/ADMIN_ where listed). Permanent once shipped. */
export const identityErrors = {} as const;
