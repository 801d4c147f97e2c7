import type { User } from '../../../src/index.ts';
import { client } from '../app.ts';
import { describeError, h } from '../dom.ts';
import { tweetCard } from './tweet-card.ts';

export function profileView(handle: string): HTMLElement {
  const section = h('section', { class: 'profile', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  Promise.all([client.users.get(handle), client.users.tweets(handle, { limit: 50 })]).then(
    ([user, tweets]) => {
      section.setAttribute('aria-busy', 'false');
      section.replaceChildren(
        ...[
        h('h2', {}, user.name || user.handle),
        h('p', { class: 'muted' }, `@${user.handle}`),
        user.bio ? h('p', {}, user.bio) : null,
        h('p', { class: 'counts' }, h('span', { 'data-testid': 'followers' }, `${user.counts.followers} followers`), ' · ', `${user.counts.following} following`, ' · ', `${user.counts.tweets} tweets`),
        followButton(user),
        h('div', { class: 'timeline', role: 'feed', 'aria-label': `Tweets by @${user.handle}` }, ...tweets.items.map(tweetCard)),
        tweets.items.length === 0 ? h('p', { class: 'muted' }, 'No tweets yet.') : null,
        ].filter((x): x is HTMLElement => x !== null),
      );
    },
    (err: unknown) => section.replaceChildren(h('p', { role: 'alert', class: 'error' }, describeError(err))),
  );
  return section;
}

function followButton(user: User): HTMLElement | null {
  if (!client.session || client.session.userId === user.id) return null;
  let following = user.isFollowing === true;
  const button = h('button', { type: 'button', 'aria-pressed': String(following) }, following ? 'Unfollow' : 'Follow');
  const status = h('span', { role: 'status', class: 'muted' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      following = (following ? await client.users.unfollow(user.handle) : await client.users.follow(user.handle)).following;
      button.textContent = following ? 'Unfollow' : 'Follow';
      button.setAttribute('aria-pressed', String(following));
      status.textContent = following ? `Following @${user.handle}` : '';
    } catch (err) {
      status.textContent = describeError(err);
    } finally {
      button.disabled = false;
    }
  });
  return h('p', {}, button, ' ', status);
}
