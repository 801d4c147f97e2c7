/**
 * What the media service needs from the stream records, which the gateway owns. In the embedded
 * default the gateway's StreamService answers in-process; a standalone media worker reaches the
 * gateways over Redis (redis-media-link.ts). Reports are idempotent: the same `live` or `ended`
 * heard twice changes nothing the second time.
 */
export interface StreamDirectory {
  /** The stream a key opens (right secret, stream not over), or null. */
  authorize(streamKey: string): Promise<string | null>;
  /** A broadcaster is publishing: the stream is live, followers are told. */
  wentLive(streamId: string): Promise<void>;
  /** The broadcaster has gone (or the stream was stopped): the stream is over. */
  ended(streamId: string): Promise<void>;
}
