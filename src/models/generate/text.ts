// Human texts of the generated model nodes, per locale. The spec is the source of the model's own
// English texts; what every model node shares (labels, status, errors, help prose) lives here.
import type { MediaParam, ModelSpec, ParamSpec } from '../spec';
import { describeAllowed, MAX_TEXT_LENGTH, showDefault } from '../params';
import { describeKind, familiesFor, formatLabels, type FormatFamily } from '../../media/formats';

export const LOCALES = ['en-US', 'de'] as const;
export type Locale = (typeof LOCALES)[number];

/** Top-level key, repeated in every model's locale file, of the runtime texts all model nodes share. */
export const SHARED_KEY = 'segmind-model-node';

/** The runtime texts all model nodes share (status line, errors), as nested i18n trees. */
export interface SharedTexts {
  status: Record<string, unknown>;
  errors: Record<string, unknown>;
}

export interface CommonTexts {
  label: { name: string; config: string; maxMediaMB: string; paramsProperty: string; input: string; output: string };
  placeholder: { maxMediaMB: string; paramsProperty: string; media: string };
  status: { submitting: string; uploading: string; submitted: string; invalid: string; failed: string };
  errors: { invalid: string; noConfig: string; tooLarge: string; media: string; submit: string };
  /** visible lines under the fields that are not parameters */
  hint: { maxMediaMB: string; paramsProperty: string };
  /** the editor's reasons for refusing a value: fixed fields, and any parameter given what it allows */
  invalid: { maxMediaMB: string; param: (allowed: string) => string };
  /** what a media input accepts: formats and forms */
  mediaHint: (p: MediaParam) => string;
  help: {
    intro: (spec: ModelSpec) => string;
    inputs: string;
    outputs: string;
    details: string;
    references: string;
    required: string;
    optional: string;
    sentAs: string;
    mediaForms: (p: MediaParam) => string;
    overrideObject: string;
    segmind: string;
    kept: string;
    detailParagraphs: string[];
    modelPage: string;
    docs: string;
  };
  allowed: (p: ParamSpec, withDefault: boolean) => string;
}

const MEDIA_DE: Record<MediaParam['media'], string> = {
  image: 'Bild',
  audio: 'Audio',
  video: 'Video',
  'image-or-video': 'Bild oder Video',
};

function allowedDe(p: ParamSpec, withDefault: boolean): string {
  let text: string;
  switch (p.type) {
    case 'media':
      text = `${MEDIA_DE[p.media]}: http(s)-URL, Data-URI, Base64-Text oder Buffer`;
      break;
    case 'integer':
    case 'number': {
      const kind = p.type === 'integer' ? 'Ganzzahl' : 'Zahl';
      if (p.allowed) text = `${kind}, eine von ${p.allowed.join(', ')}`;
      else if (p.min !== undefined && p.max !== undefined) text = `${kind} ${p.min} bis ${p.max}`;
      else if (p.min !== undefined) text = `${kind} ab ${p.min}`;
      else if (p.max !== undefined) text = `${kind} bis ${p.max}`;
      else text = kind;
      break;
    }
    case 'string':
      text = p.allowed
        ? `einer von ${p.allowed.map((v) => JSON.stringify(v)).join(', ')}`
        : `Text bis ${MAX_TEXT_LENGTH} Zeichen`;
      break;
    case 'boolean':
      text = 'true oder false';
      break;
  }
  if (withDefault && p.type !== 'media' && p.default !== undefined) text += `, Standard ${showDefault(p.default)}`;
  return text;
}

const FAMILY_DE: Record<FormatFamily, string> = { image: 'Bild', audio: 'Audio', video: 'Video' };

function mediaHintDe(p: MediaParam): string {
  const parts = familiesFor(p.media).map((f) => `${FAMILY_DE[f]} (${formatLabels(f).join(', ')})`);
  return `${parts.join(' oder ')} als http(s)-URL, Data-URI, Base64-Text oder Buffer; alles außer einer URL wird zuerst hochgeladen`;
}

function seconds(spec: ModelSpec): number {
  return Math.round(spec.typicalSeconds);
}

const en: CommonTexts = {
  label: {
    name: 'Name',
    config: 'Segmind',
    maxMediaMB: 'Max media size (MB)',
    paramsProperty: 'Overrides from',
    input: 'message with media and parameter overrides',
    output: 'submitted job (msg.segmind)',
  },
  placeholder: {
    maxMediaMB: 'media larger than this is rejected before upload',
    paramsProperty: 'message property holding parameter overrides',
    media: 'where the media comes from',
  },
  status: {
    submitting: 'submitting',
    uploading: 'uploading',
    submitted: '__count__ submitted',
    invalid: 'invalid input',
    failed: 'failed',
  },
  errors: {
    invalid: '__message__',
    noConfig: 'missing Segmind config',
    tooLarge: '__field__: __size__ MB is over the __max__ MB limit',
    media: '__field__: __reason__',
    submit: 'submit failed: __message__',
  },
  hint: {
    maxMediaMB: 'number above 0, default 50: larger media are refused before anything is uploaded',
    paramsProperty: 'an object whose keys override the settings above for one message',
  },
  invalid: {
    maxMediaMB: 'Not valid: expected a number of megabytes above 0',
    param: (allowed) => `Not valid: expected ${allowed}`,
  },
  mediaHint: (p) =>
    `${describeKind(p.media)} as an http(s) URL, data URI, base64 string or Buffer; anything but a URL is uploaded first`,
  help: {
    intro: (spec) =>
      `Submits a job to Segmind's <code>${spec.slug}</code> model and passes the message on at once with ` +
      `<code>msg.segmind</code>. The video takes about ${seconds(spec)} s; wire this node to an ` +
      `<b>await job</b> node to receive it.`,
    inputs: 'Inputs',
    outputs: 'Outputs',
    details: 'Details',
    references: 'References',
    required: 'Required.',
    optional: 'Optional.',
    sentAs: 'Sent to Segmind as',
    mediaForms: (p) =>
      `Read from <code>msg.${p.defaultProperty}</code> by default; the source is set in the node ` +
      `(a message, flow or global property, an environment variable or a fixed URL). Accepts an ` +
      `http(s) URL, a data URI, a base64 string or a Buffer; anything but a URL is uploaded to ` +
      `Segmind storage first.`,
    overrideObject:
      'Parameter overrides, read from <code>msg.payload</code> by default (set in <i>Overrides from</i>). ' +
      'Each key below overrides the node setting; other keys are ignored. Numbers may be given as numeric ' +
      'strings and booleans as <code>"true"</code>/<code>"false"</code>.',
    segmind:
      'The submitted job: <code>model</code> (the Segmind model), <code>requestId</code>, ' +
      '<code>statusUrl</code>, <code>responseUrl</code> and <code>submittedAt</code> (ISO 8601 time).',
    kept: 'All other message properties are passed on unchanged.',
    detailParagraphs: [
      'Each parameter is taken from the message override if present, else from the node setting, else ' +
        'the model default: <b>message override &gt; node setting &gt; model default</b>. An empty node ' +
        'setting means the model default.',
      'Every input is validated before any request is made: a missing required input, a wrong type, a ' +
        'value out of range or not among the allowed values stops the message with an error that names ' +
        'the field, the value received and what is allowed. Nothing is uploaded or billed then.',
      'Errors go to <code>done(err)</code>: a <b>Catch</b> node gets <code>msg.error.code</code> ' +
        '(<code>invalid_input</code> with <code>msg.error.field</code> for a field at fault) and ' +
        '<code>msg.error.resubmitSafe</code>: <code>true</code> only where Segmind certainly created no job ' +
        '(invalid input, no key, nothing sent, a 4xx answer, a failed upload), so a Catch-and-retry loop ' +
        'should send the message again only then.',
      'Media that is not already an http(s) URL (a data URI, base64 text or a Buffer) is uploaded to ' +
        'Segmind storage first and the returned URL is sent. Media larger than <i>Max media size (MB)</i> ' +
        'is rejected before uploading.',
      'The node only submits the job; it does not wait for the video. Wire its output to an ' +
        '<b>await job</b> node, which polls the job and outputs the result when it is done.',
    ],
    modelPage: 'model page and API reference',
    docs: 'Segmind documentation (asynchronous inference)',
  },
  allowed: (p, withDefault) => describeAllowed(p, { withDefault }),
};

const de: CommonTexts = {
  label: {
    name: 'Name',
    config: 'Segmind',
    maxMediaMB: 'Max. Mediengröße (MB)',
    paramsProperty: 'Überschreibungen aus',
    input: 'Nachricht mit Medien und Parameter-Überschreibungen',
    output: 'gesendeter Auftrag (msg.segmind)',
  },
  placeholder: {
    maxMediaMB: 'größere Medien werden vor dem Hochladen abgelehnt',
    paramsProperty: 'Nachrichteneigenschaft mit Parameter-Überschreibungen',
    media: 'woher das Medium kommt',
  },
  status: {
    submitting: 'wird gesendet',
    uploading: 'wird hochgeladen',
    submitted: '__count__ gesendet',
    invalid: 'ungültige Eingabe',
    failed: 'fehlgeschlagen',
  },
  errors: {
    invalid: '__message__',
    noConfig: 'Segmind-Konfiguration fehlt',
    tooLarge: '__field__: __size__ MB überschreitet die Grenze von __max__ MB',
    media: '__field__: __reason__',
    submit: 'Senden fehlgeschlagen: __message__',
  },
  hint: {
    maxMediaMB: 'Zahl über 0, Standard 50: größere Medien werden abgelehnt, bevor etwas hochgeladen wird',
    paramsProperty: 'ein Objekt, dessen Schlüssel die Einstellungen oben für eine Nachricht überschreiben',
  },
  invalid: {
    maxMediaMB: 'Ungültig: erwartet wird eine Zahl von Megabytes über 0',
    param: (allowed) => `Ungültig: erwartet ${allowed}`,
  },
  mediaHint: mediaHintDe,
  help: {
    intro: (spec) =>
      `Sendet einen Auftrag an Segminds Modell <code>${spec.slug}</code> und gibt die Nachricht sofort mit ` +
      `<code>msg.segmind</code> weiter. Das Video dauert etwa ${seconds(spec)} s; verbinde diesen Node mit ` +
      `einem <b>Job abwarten</b>-Node, um es zu erhalten.`,
    inputs: 'Eingaben',
    outputs: 'Ausgaben',
    details: 'Details',
    references: 'Referenzen',
    required: 'Erforderlich.',
    optional: 'Optional.',
    sentAs: 'An Segmind gesendet als',
    mediaForms: (p) =>
      `Standardmäßig aus <code>msg.${p.defaultProperty}</code>; die Quelle wird im Node eingestellt ` +
      `(Nachrichten-, Flow- oder Global-Eigenschaft, Umgebungsvariable oder feste URL). Akzeptiert eine ` +
      `http(s)-URL, eine Data-URI, Base64-Text oder einen Buffer; alles außer einer URL wird zuerst in ` +
      `den Segmind-Speicher hochgeladen.`,
    overrideObject:
      'Parameter-Überschreibungen, standardmäßig aus <code>msg.payload</code> (einstellbar unter ' +
      '<i>Überschreibungen aus</i>). Jeder Schlüssel unten überschreibt die Node-Einstellung; andere ' +
      'Schlüssel werden ignoriert. Zahlen dürfen als numerischer Text, Wahrheitswerte als ' +
      '<code>"true"</code>/<code>"false"</code> kommen.',
    segmind:
      'Der gesendete Auftrag: <code>model</code> (das Segmind-Modell), <code>requestId</code>, ' +
      '<code>statusUrl</code>, <code>responseUrl</code> und <code>submittedAt</code> (Zeit nach ISO 8601).',
    kept: 'Alle anderen Eigenschaften der Nachricht bleiben unverändert.',
    detailParagraphs: [
      'Jeder Parameter kommt aus der Überschreibung in der Nachricht, sonst aus der Node-Einstellung, sonst ' +
        'aus dem Modell-Standard: <b>Nachricht &gt; Node-Einstellung &gt; Modell-Standard</b>. Eine leere ' +
        'Node-Einstellung bedeutet den Modell-Standard.',
      'Alle Eingaben werden vor jeder Anfrage geprüft: eine fehlende Pflichtangabe, ein falscher Typ, ein ' +
        'Wert außerhalb des Bereichs oder außerhalb der erlaubten Werte beendet die Nachricht mit einem ' +
        'Fehler, der Feld, erhaltenen Wert und Erlaubtes nennt. Dann wird nichts hochgeladen oder berechnet.',
      'Fehler gehen an <code>done(err)</code>: ein <b>Catch</b>-Node erhält <code>msg.error.code</code> ' +
        '(<code>invalid_input</code> mit <code>msg.error.field</code> für ein fehlerhaftes Feld) und ' +
        '<code>msg.error.resubmitSafe</code>: <code>true</code> nur, wo Segmind sicher keinen Auftrag angelegt ' +
        'hat (ungültige Eingabe, kein Schlüssel, nichts gesendet, eine 4xx-Antwort, ein gescheiterter Upload); ' +
        'nur dann sollte eine Catch-Schleife die Nachricht erneut senden.',
      'Medien, die keine http(s)-URL sind (Data-URI, Base64-Text oder Buffer), werden zuerst in den ' +
        'Segmind-Speicher hochgeladen und die erhaltene URL gesendet. Medien über <i>Max. Mediengröße (MB)</i> ' +
        'werden vor dem Hochladen abgelehnt.',
      'Der Node sendet den Auftrag nur ab und wartet nicht auf das Video. Verbinde seinen Ausgang mit einem ' +
        '<b>Job abwarten</b>-Node, der den Auftrag abfragt und das Ergebnis ausgibt, sobald es fertig ist.',
    ],
    modelPage: 'Modellseite und API-Referenz',
    docs: 'Segmind-Dokumentation (asynchrone Inferenz)',
  },
  allowed: allowedDe,
};

export const TEXTS: Record<Locale, CommonTexts> = { 'en-US': en, de };

export function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A spec's own texts in a locale: English from the spec, others from spec.translations. */
export function specTexts(
  spec: ModelSpec,
  locale: Locale,
): { summary: string; label: (p: ParamSpec) => string; description: (p: ParamSpec) => string } {
  const t = locale === 'en-US' ? undefined : spec.translations?.[locale.split('-')[0]];
  return {
    summary: t?.summary ?? spec.summary,
    label: (p) => t?.params[p.name]?.label ?? p.label ?? humanise(p.name),
    description: (p) => t?.params[p.name]?.description ?? p.description,
  };
}

export function humanise(name: string): string {
  const s = name.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
