import { HandlerRegistry, type ActionMapOf } from '../../functions/core';
import { wordCount } from './word-count';
import { fetchExport } from './fetch-export';

export const handlers = [wordCount, fetchExport] as const;
export const registry = new HandlerRegistry(handlers);
export type AppActions = ActionMapOf<typeof handlers>; // { word_count: { payload; result }, fetch_export: … }
