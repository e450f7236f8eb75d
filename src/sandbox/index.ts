// STUB: replaced by its owner.
export {};
