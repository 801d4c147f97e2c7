export * from './errors.ts';
export * from './types.ts';
export * from './text.ts';
export * from './events.ts';
