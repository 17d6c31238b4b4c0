/** HTTP bodies of the live service (v1). */
export {};
