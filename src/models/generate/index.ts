// Generators of each model node's editor HTML, help and locale files (used by scripts/build-nodes.ts).
export { buildEditorHtml, FIXED_PROPERTIES, RESERVED_PROPERTIES, PALETTE_CATEGORY, NODE_COLOR } from './editor-html';
export { buildHelpHtml } from './help-html';
export { buildLocaleCatalog, catalogJson } from './locale-json';
export { syncNodeSets, modelNodePath, MODELS_DIR } from './package-nodes';
export { LOCALES, SHARED_KEY, type Locale, type SharedTexts } from './text';
export { readSharedTexts, GENERIC_CATALOG } from './shared-texts';
