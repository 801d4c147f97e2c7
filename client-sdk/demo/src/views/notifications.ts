import { compareIds, type Notification } from '../../../src/index.ts';
import { client } from '../app.ts';
import { describeError, h, timeAgo } from '../dom.ts';

const WHAT: Record<Notification['kind'], string> = {
  follow: 'followed you',
  like: 'liked your tweet',
  repost: 'reposted your tweet',
  comment: 'commented on your tweet',
  mention: 'mentioned you',
  live: 'is live now',
};

/** The inbox: unread count for the badge, kept current by `notification` events. */
export class Inbox {
  readonly items = new Map<string, Notification>();
  unread = 0;
  private readonly listeners = new Set<() => void>();
  /** The list on screen, if any (one at a time). */
  private render: (() => void) | null = null;

  constructor() {
    client.on('notification', (e) => {
      if (this.items.has(e.id)) return;
      this.items.set(e.id, e.notification);
      if (!e.notification.readAt) this.unread++;
      this.changed();
    });
    client.on('session', () => {
      this.items.clear();
      this.unread = 0;
      this.changed();
    });
  }

  onChange(f: () => void): void {
    this.listeners.add(f);
  }

  async load(): Promise<void> {
    const page = await client.notifications.list({ limit: 50 });
    for (const n of page.items) this.items.set(n.id, n);
    this.unread = page.unread;
    this.changed();
  }

  async markAllRead(): Promise<void> {
    const newest = [...this.items.keys()].sort((a, b) => compareIds(b, a))[0];
    if (!newest) return;
    await client.notifications.markRead(newest);
    const now = new Date().toISOString();
    for (const [id, n] of this.items) if (!n.readAt) this.items.set(id, { ...n, readAt: now });
    this.unread = 0;
    this.changed();
  }

  private changed(): void {
    for (const f of this.listeners) f();
    this.render?.();
  }

  view(): HTMLElement {
    const list = h('ol', { class: 'notifications', 'aria-label': 'Notifications' });
    const render = () =>
      list.replaceChildren(
        ...[...this.items.values()]
          .sort((a, b) => compareIds(b.id, a.id))
          .map((n) =>
            h(
              'li',
              { class: n.readAt ? 'read' : 'unread', 'data-notification-id': n.id },
              h('a', { href: `#/u/${n.actor.handle}` }, `@${n.actor.handle}`),
              ` ${WHAT[n.kind] ?? n.kind} `,
              n.streamId ? h('a', { href: `#/live/${n.streamId}` }, 'watch') : null,
              h('span', { class: 'muted' }, ` · ${timeAgo(n.createdAt)}`),
            ),
          ),
      );
    this.render = render;
    const status = h('p', { role: 'status', class: 'muted' });
    const section = h(
      'section',
      {},
      h('h2', {}, 'Notifications'),
      h('button', { type: 'button', onclick: () => void this.markAllRead().catch((err: unknown) => (status.textContent = describeError(err))) }, 'Mark all as read'),
      status,
      list,
    );
    render();
    this.load().catch((err: unknown) => (status.textContent = describeError(err)));
    return section;
  }
}
