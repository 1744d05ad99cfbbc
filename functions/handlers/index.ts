/**
 * The application's handlers. Add yours here: the router and the processor
 * both read this registry.
 */
import { HandlerRegistry } from '../core';
import { echo } from './echo';
import { generateReport } from './generate-report';
import { processData } from './process-data';

export const registry = new HandlerRegistry([echo, generateReport, processData]);
