import { z } from 'zod';

/**
 * The socket payloads of the four signaling events, checked at the edge. mediasoup's own
 * objects are checked here only for shape and size; mediasoup validates their content (a
 * rejection there is answered as FLOCK_ERR_VALIDATION too).
 */
const streamId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected a stream id');
const transportId = z.uuid();
const kind = z.enum(['audio', 'video']);
const shortString = z.string().max(256);

const dtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.strictObject({ algorithm: shortString, value: shortString })).min(1).max(8),
});

const rtpParameters = z.looseObject({
  mid: shortString.optional(),
  codecs: z.array(z.looseObject({ mimeType: shortString, payloadType: z.number().int(), clockRate: z.number().int() })).min(1).max(16),
  headerExtensions: z.array(z.looseObject({ uri: shortString, id: z.number().int() })).max(32).optional(),
  encodings: z.array(z.looseObject({})).max(8).optional(),
  rtcp: z.looseObject({}).optional(),
});

export const webRtcRequestSchemas = {
  'webrtc:capabilities': z.strictObject({}),
  'webrtc:transport': z.strictObject({
    streamId,
    kinds: z
      .array(kind)
      .min(1)
      .max(2)
      .refine((k) => new Set(k).size === k.length, 'each kind once')
      .optional(),
  }),
  'webrtc:connect': z.strictObject({ transportId, dtlsParameters }),
  'webrtc:produce': z.strictObject({ transportId, kind, rtpParameters }),
} as const;
