import { client, go } from './app.ts';
import { h, mount } from './dom.ts';
import { authView } from './views/auth.ts';
import { goLiveView } from './views/go-live.ts';
import { HomeTimeline } from './views/home.ts';
import { liveListView, playerView } from './views/live.ts';
import { Inbox } from './views/notifications.ts';
import { profileView } from './views/profile.ts';

const home = new HomeTimeline();
const inbox = new Inbox();
const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const conn = document.getElementById('connection')!;

const badge = h('span', { class: 'badge', 'data-testid': 'unread', 'aria-label': '0 unread' });
inbox.onChange(() => {
  badge.textContent = inbox.unread > 0 ? String(inbox.unread) : '';
  badge.setAttribute('aria-label', `${inbox.unread} unread`);
});

function renderNav(): void {
  const s = client.session;
  if (!s) {
    mount(nav, h('a', { href: '#/login' }, 'Log in'));
    return;
  }
  mount(
    nav,
    h('a', { href: '#/' }, 'Home'),
    h('a', { href: '#/notifications' }, 'Notifications ', badge),
    h('a', { href: '#/live' }, 'Live'),
    h('a', { href: `#/u/${s.handle}` }, `@${s.handle}`),
    h('button', { type: 'button', class: 'link', onclick: () => void client.auth.logout().then(() => go('#/login')) }, 'Log out'),
  );
}

function route(): void {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [, page = '', arg] = hash.split('/');
  if (!client.session && page !== 'login' && page !== 'u') {
    go('#/login');
    return;
  }
  const view =
    page === 'login'
      ? authView()
      : page === 'u' && arg
        ? profileView(decodeURIComponent(arg))
        : page === 'notifications'
          ? inbox.view()
          : page === 'live' && arg
            ? playerView(decodeURIComponent(arg))
            : page === 'live'
              ? liveListView()
              : page === 'go-live'
                ? goLiveView()
                : home.view();
  mount(main, view);
  main.focus({ preventScroll: true });
}

client.on('connection', (s) => {
  conn.textContent = s.state === 'connected' ? 'Live' : s.state === 'stopped' ? 'Offline' : 'Reconnecting…';
  conn.dataset.state = s.state;
});
client.on('session', () => {
  renderNav();
  if (client.session) void inbox.load().catch(() => {});
  else go('#/login'); // logged out here, or the session ended elsewhere (account deleted, revoked)
});

window.addEventListener('hashchange', route);
void client.ready().then(() => {
  renderNav();
  if (client.session) void inbox.load().catch(() => {});
  route();
});
