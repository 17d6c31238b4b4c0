/** HTTP bodies of the payments service (v1). */
export {};
