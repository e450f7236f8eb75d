// Media samples for tests: the fixtures on disk plus minimal headers of the other formats
// (file-type only reads the first bytes, so a header is enough to be recognised).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const fixtures = join(__dirname, '..', 'fixtures');
const pad = (b: Buffer, n = 64) => Buffer.concat([b, Buffer.alloc(n)]);

export const facePng = readFileSync(join(fixtures, 'face.png'));
export const faceJpg = readFileSync(join(fixtures, 'face.jpg'));
export const voiceMp3 = readFileSync(join(fixtures, 'voice.mp3'));
export const voiceWav = readFileSync(join(fixtures, 'voice.wav'));

export const headers = {
  webp: pad(Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x24, 0, 0, 0]), Buffer.from('WEBPVP8 ')])),
  m4a: pad(Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A \0\0\0\0isom')])),
  mp4: pad(Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom\0\0\x02\0isomiso2')])),
  mov: pad(Buffer.concat([Buffer.from([0, 0, 0, 0x14]), Buffer.from('ftypqt  \0\0\0\0qt  ')])),
  webm: pad(
    Buffer.from([
      0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01, 0x42, 0xf2, 0x81, 0x04, 0x42,
      0xf3, 0x81, 0x08, 0x42, 0x82, 0x84, 0x77, 0x65, 0x62, 0x6d, 0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02,
    ]),
  ),
  ogg: pad(Buffer.concat([Buffer.from('OggS'), Buffer.alloc(24), Buffer.from('\x01vorbis')])),
  aac: pad(Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc])),
  gif: pad(Buffer.from('GIF89a')),
};

/** Bytes no detector recognises (deterministic, unlike random bytes that may start like MP3). */
export const garbage = Buffer.from('this is certainly not a media file; '.repeat(20));

export const dataUri = (mime: string, data: Buffer) => `data:${mime};base64,${data.toString('base64')}`;
