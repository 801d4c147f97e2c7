import { defineApiSuite } from './api-suite.ts';

defineApiSuite('postgres', 'node');
