import { WebRtcError } from './webrtc-error.ts';
import type { WebRtcSignaling } from './webrtc-signaling.ts';

/** WebRTC signaling of a gateway without a mediasoup worker: every call says why, once per call. */
export class UnavailableSignaling implements WebRtcSignaling {
  constructor(readonly unavailableReason: string) {}

  private fail(): never {
    throw new WebRtcError('FLOCK_ERR_UNAVAILABLE', this.unavailableReason);
  }

  capabilities(): never {
    return this.fail();
  }
  async createTransport(): Promise<never> {
    return this.fail();
  }
  async connectTransport(): Promise<never> {
    return this.fail();
  }
  async produce(): Promise<never> {
    return this.fail();
  }
  closeOwner(): void {}
  async close(): Promise<void> {}
}
