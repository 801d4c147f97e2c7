import { defineMessagingSuite } from './messaging-suite.ts';

defineMessagingSuite('postgres');
