/** HTTP bodies of the chat service (v1). */
export {};
