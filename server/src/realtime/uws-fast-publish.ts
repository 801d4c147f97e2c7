import { createRequire } from 'node:module';
import type { Server } from 'socket.io';
import type { NativePublisher } from '../http/types.ts';

/**
 * Single-room broadcasts without a walk over the room's sockets, while a server has no
 * long-polling connection.
 *
 * socket.io's uWS integration (`attachApp`, socket.io/dist/uws.js) replaces the in-memory
 * adapter's `broadcast`: a broadcast to at most one room is published once with uWS pub/sub
 * (native, one write per subscriber), and then `this.apply(…)` walks every socket of the room in
 * JavaScript, collecting their ids in a Set, only to find the long-polling ones that pub/sub
 * cannot reach. For a room of 5,000 sockets that walk costs ~1.4 ms per broadcast on this
 * machine (a large author's every tweet, on every node), and the Set is garbage.
 *
 * This counts, per server, the engine connections that are not on websocket (long-polling
 * before or without an upgrade). While a server has none, its single-room broadcasts publish the
 * same frames the same way and skip the walk; otherwise socket.io's version runs unchanged. The
 * cluster adapters (Redis) call this local broadcast for their own and for other nodes' messages
 * alike, so both are covered.
 *
 * Installed on the shared adapter prototype on top of socket.io's version (which `attachApp`
 * installs and `close()` restores), so `attachFastPublish` must run after each `attachApp`.
 */

const SEPARATOR = '\x1f'; // socket.io's topic separator (namespace \x1f room)

interface ServerState {
  app: NativePublisher;
  /** Engine connections of this server currently on another transport than websocket. */
  polling: number;
}

interface BroadcastOptions {
  rooms: Set<string>;
  except?: Set<string>;
}

interface AdapterLike {
  nsp: { name: string; server: object };
  encoder: { encode(packet: unknown): (string | Uint8Array)[] };
}

type Broadcast = (this: AdapterLike, packet: { nsp?: string }, opts: BroadcastOptions) => void;

const FAST = Symbol('flock.fastPublish');
const servers = new WeakMap<object, ServerState>();

// The adapter module socket.io itself loads (its uws.js patches that one's prototype).
const socketIoRequire = createRequire(createRequire(import.meta.url).resolve('socket.io'));
const { Adapter } = socketIoRequire('socket.io-adapter') as { Adapter: { prototype: { broadcast: Broadcast & { [FAST]?: true } } } };

/** Long-polling engine connections of a server that fast publishing tracks; null when it does not. */
export function pollingConnections(io: Server): number | null {
  return servers.get(io)?.polling ?? null;
}

export function attachFastPublish(io: Server, app: NativePublisher): void {
  const state: ServerState = { app, polling: 0 };
  servers.set(io, state);
  io.engine.on('connection', (conn: { transport: { name: string }; on(event: 'upgrade' | 'close', fn: () => void): void }) => {
    let polling = conn.transport.name !== 'websocket';
    if (!polling) return;
    state.polling++;
    const done = () => {
      if (!polling) return;
      polling = false;
      state.polling--;
    };
    conn.on('upgrade', done);
    conn.on('close', done);
  });

  const current = Adapter.prototype.broadcast;
  if (current[FAST]) return;
  const inner = current;
  const broadcast: Broadcast & { [FAST]?: true } = function (this: AdapterLike, packet, opts) {
    const s = servers.get(this.nsp.server);
    if (!s || s.polling > 0 || opts.rooms.size > 1 || (opts.except && opts.except.size > 0)) {
      inner.call(this, packet, opts);
      return;
    }
    // What socket.io's version publishes, without its walk (there is nobody to walk for), and on
    // this server's own app: socket.io's publishes on the last app attached in the process, so
    // delegating to it with the walk stubbed out would be wrong with two servers in one process.
    packet.nsp = this.nsp.name;
    const topic = opts.rooms.size === 0 ? this.nsp.name : `${this.nsp.name}${SEPARATOR}${opts.rooms.values().next().value as string}`;
    for (const encoded of this.encoder.encode(packet)) {
      const isBinary = typeof encoded !== 'string';
      // "4": the Engine.IO message packet type.
      s.app.publish(topic, isBinary ? encoded : `4${encoded}`, isBinary);
    }
  };
  broadcast[FAST] = true;
  Adapter.prototype.broadcast = broadcast;
}
