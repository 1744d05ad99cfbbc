/**
 * The application's handlers. Add yours here: the router and the processor
 * both read this registry.
 */
import { HandlerRegistry } from '../core';
import { digestUpload } from './digest-upload';
import { echo } from './echo';
import { exportRows } from './export-rows';
import { generateReport } from './generate-report';
import { processData } from './process-data';

export const registry = new HandlerRegistry([echo, generateReport, processData, exportRows, digestUpload]);
