import { countGraphemes, MAX_TWEET_GRAPHEMES, compareIds, type Tweet } from '../../../src/index.ts';
import { client } from '../app.ts';
import { describeError, h } from '../dom.ts';
import { tweetCard } from './tweet-card.ts';

/** The home timeline: loaded once over HTTP, then kept current by the client's `tweet` events. */
export class HomeTimeline {
  readonly tweets = new Map<string, Tweet>();
  private list: HTMLElement | null = null;
  private loaded: Promise<void> | null = null;

  constructor() {
    client.on('tweet', (e) => this.add(e.tweet));
    client.on('tweet:deleted', (e) => {
      this.tweets.delete(e.tweetId);
      this.list?.querySelector(`[data-tweet-id="${e.tweetId}"]`)?.remove();
    });
    client.on('session', () => {
      this.tweets.clear();
      this.loaded = null;
    });
  }

  load(): Promise<void> {
    return (this.loaded ??= client.timeline.home({ limit: 50 }).then(
      (page) => page.items.forEach((t) => this.tweets.set(t.id, t)),
      (err: unknown) => {
        this.loaded = null;
        throw err;
      },
    ));
  }

  add(t: Tweet): void {
    const known = this.tweets.has(t.id);
    this.tweets.set(t.id, t);
    if (!this.list || known) return; // your own tweet comes back as an event too
    // Insert in id order (newest first): a catch-up after a reconnect may deliver older tweets after newer ones.
    const card = tweetCard(t);
    const later = [...this.list.children].find((el) => compareIds((el as HTMLElement).dataset.tweetId ?? '0', t.id) < 0);
    this.list.insertBefore(card, later ?? null);
    this.list.parentElement?.querySelector('.empty')?.remove();
  }

  view(): HTMLElement {
    const list = h('div', { class: 'timeline', role: 'feed', 'aria-label': 'Home timeline', 'aria-busy': 'true' });
    this.list = list;
    const section = h('section', {}, composer((t) => this.add(t)), list);
    this.load().then(
      () => {
        list.replaceChildren(...[...this.tweets.values()].sort((a, b) => compareIds(b.id, a.id)).map(tweetCard));
        list.setAttribute('aria-busy', 'false');
        if (this.tweets.size === 0) section.append(h('p', { class: 'empty muted' }, 'No tweets yet. Follow someone, or say hello.'));
      },
      (err: unknown) => list.replaceChildren(h('p', { role: 'alert', class: 'error' }, describeError(err))),
    );
    return section;
  }
}

export function composer(onPosted: (t: Tweet) => void): HTMLElement {
  const id = 'compose-text';
  const text = h('textarea', { id, name: 'text', rows: 3, placeholder: 'What is happening?', required: true }) as HTMLTextAreaElement;
  const counter = h('output', { for: id, class: 'counter', 'aria-live': 'polite', 'data-testid': 'counter' }, `0/${MAX_TWEET_GRAPHEMES}`);
  const button = h('button', { type: 'submit', disabled: true }, 'Tweet');
  const status = h('p', { role: 'alert', class: 'error' });
  const update = () => {
    // The server's own rule: grapheme clusters after trimming, so the counter and the server agree.
    const n = countGraphemes(text.value.trim());
    counter.textContent = `${n}/${MAX_TWEET_GRAPHEMES}`;
    counter.classList.toggle('over', n > MAX_TWEET_GRAPHEMES);
    button.disabled = n === 0 || n > MAX_TWEET_GRAPHEMES;
  };
  text.addEventListener('input', update);
  const form = h(
    'form',
    {
      class: 'composer',
      'aria-label': 'Compose a tweet',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        button.disabled = true;
        status.textContent = '';
        try {
          onPosted(await client.tweets.create({ text: text.value }));
          text.value = '';
        } catch (err) {
          status.textContent = describeError(err);
        }
        update();
      },
    },
    h('label', { for: id, class: 'visually-hidden' }, 'Tweet text'),
    text,
    h('div', { class: 'row' }, counter, button),
    status,
  );
  return form;
}
