/** HTTP bodies of the identity service (v1). */
export {};
