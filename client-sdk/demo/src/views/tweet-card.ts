import type { Tweet } from '../../../src/index.ts';
import { h, timeAgo } from '../dom.ts';

export function tweetCard(t: Tweet): HTMLElement {
  return h(
    'article',
    { class: 'tweet', 'data-tweet-id': t.id, 'aria-label': `Tweet by @${t.author.handle}` },
    h('header', {}, h('a', { href: `#/u/${t.author.handle}`, class: 'name' }, t.author.name || t.author.handle), ' ', h('span', { class: 'muted' }, `@${t.author.handle} · `, h('time', { datetime: t.createdAt }, timeAgo(t.createdAt)))),
    h('p', { class: 'text' }, t.text),
  );
}
