// Contract of a model spec: the single source of truth for a model's runtime schema (zod),
// its editor form (generated HTML) and its help text. Adding a model = one file in ./specs
// exporting a ModelSpec, listed in ./specs/index.ts, plus icons/<icon>.svg.

export type MediaKind = 'image' | 'audio' | 'video' | 'image-or-video';

interface ParamBase {
  /** Segmind's parameter name, exactly as on the model page */
  name: string;
  required: boolean;
  /** One or two sentences for the help and the editor tooltip (English; the spec is the source) */
  description: string;
  /** Editor label; defaults to a humanised name */
  label?: string;
}

export interface MediaParam extends ParamBase {
  type: 'media';
  media: MediaKind;
  /** default msg property the editor's typedInput points at, e.g. 'image' => msg.image */
  defaultProperty: string;
  /** The page's own example URL (documentation and tests only; never sent by default) */
  example?: string;
}

export interface NumberParam extends ParamBase {
  type: 'integer' | 'number';
  default?: number;
  min?: number;
  max?: number;
  /** discrete allowed values (e.g. SadTalker image_size 256|512) */
  allowed?: number[];
  example?: number;
}

export interface StringParam extends ParamBase {
  type: 'string';
  default?: string;
  allowed?: string[];
  /** free text (prompt) may be long in the editor */
  multiline?: boolean;
  example?: string;
}

export interface BooleanParam extends ParamBase {
  type: 'boolean';
  default?: boolean;
  example?: boolean;
}

export type ParamSpec = MediaParam | NumberParam | StringParam | BooleanParam;

/** A model's human texts in one more language (the spec itself is English). */
export interface SpecTranslation {
  summary: string;
  /** per parameter name: editor label and description */
  params: Record<string, { label: string; description: string }>;
}

export interface ModelSpec {
  /** Segmind model slug used in POST /v2/{slug} */
  slug: string;
  /** Node-RED node type, e.g. 'segmind sadtalker' */
  nodeType: string;
  /** file base name under nodes/models/, e.g. 'sadtalker' */
  file: string;
  /** Palette label and display name, e.g. 'SadTalker' */
  title: string;
  /** One line shown first in the help */
  summary: string;
  /** icon file name in icons/ */
  icon: string;
  /** typical run time in seconds, from the model page */
  typicalSeconds: number;
  /** the model page */
  pageUrl: string;
  /**
   * Price of one run in USD, an estimate for the spending cap until Segmind reports metrics.cost:
   * the model page's figure where it showed one, else its typical time at a similar model's price
   * per second (priceSource says which).
   */
  priceUsd?: number;
  priceSource?: string;
  params: ParamSpec[];
  /** Translations by locale (e.g. 'de') for the generated editor, help and locale files */
  translations?: Record<string, SpecTranslation>;
}
