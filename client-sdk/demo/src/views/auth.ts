import { HANDLE_PATTERN } from '../../../src/index.ts';
import { client, go } from '../app.ts';
import { describeError, h } from '../dom.ts';

export function authView(): HTMLElement {
  const status = h('p', { role: 'alert', class: 'error' });
  const field = (label: string, attrs: Record<string, string | boolean>) => {
    const id = `f-${String(attrs.name)}-${Math.random().toString(36).slice(2, 7)}`;
    return h('p', {}, h('label', { for: id }, label), h('input', { id, ...attrs }));
  };
  const submit = (fn: (data: FormData) => Promise<unknown>) => async (ev: Event) => {
    ev.preventDefault();
    const form = ev.currentTarget as HTMLFormElement;
    status.textContent = '';
    form.querySelector('button')!.disabled = true;
    try {
      await fn(new FormData(form));
      go('#/');
    } catch (err) {
      status.textContent = describeError(err);
    } finally {
      form.querySelector('button')!.disabled = false;
    }
  };
  const login = h(
    'form',
    { 'aria-label': 'Log in', onsubmit: submit((d) => {
      const who = String(d.get('who'));
      const password = String(d.get('password'));
      return client.auth.login(who.includes('@') ? { email: who, password } : { handle: who, password });
    }) },
    h('h2', {}, 'Log in'),
    field('Handle or email', { name: 'who', required: true, autocomplete: 'username' }),
    field('Password', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' }),
    h('button', { type: 'submit' }, 'Log in'),
  );
  const register = h(
    'form',
    { 'aria-label': 'Create an account', onsubmit: submit((d) => {
      const name = String(d.get('name') ?? '');
      return client.auth.register({
        handle: String(d.get('handle')),
        email: String(d.get('email')),
        password: String(d.get('password')),
        ...(name ? { name } : {}),
      });
    }) },
    h('h2', {}, 'Create an account'),
    field('Handle', { name: 'handle', required: true, pattern: HANDLE_PATTERN.source.slice(1, -1), maxlength: '15', autocomplete: 'username' }),
    field('Name', { name: 'name', maxlength: '50', autocomplete: 'name' }),
    field('Email', { name: 'email', type: 'email', required: true, autocomplete: 'email' }),
    field('Password (8 or more characters)', { name: 'password', type: 'password', required: true, minlength: '8', autocomplete: 'new-password' }),
    h('button', { type: 'submit' }, 'Sign up'),
  );
  return h('section', { class: 'auth' }, status, login, register);
}
