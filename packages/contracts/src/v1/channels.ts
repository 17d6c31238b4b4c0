/** HTTP bodies of the channels service (v1). */
export {};
