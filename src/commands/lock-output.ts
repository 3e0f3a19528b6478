/**
 * How `update` and `outdated` print: one line per entry on stdout as soon as
 * it is known (its hint, if any, on stderr), or one JSON document at the
 * end; then the counts on stderr.
 */
import type { LockEntry } from '../lock/format.js';
import type { LockLocation } from '../lock/lock-file.js';
import { nameWidth, reportLine, summary, type EntryReport } from '../lock/report.js';
import type { CommandContext } from './context.js';

export interface ReportPrinter {
  add(report: EntryReport): Promise<void>;
  /** Prints the JSON document (with --json) and the summary line; returns every report. */
  end(movedWord: string): Promise<EntryReport[]>;
}

export function reportPrinter(ctx: CommandContext, loc: LockLocation, entries: readonly LockEntry[], json: boolean): ReportPrinter {
  const width = nameWidth(entries);
  const reports: EntryReport[] = [];
  return {
    async add(report) {
      reports.push(report);
      if (json) return;
      await ctx.stdout.write(`${reportLine(report, width, ctx.colors)}\n`);
      if (report.error?.hint) ctx.logger.info(`${report.name}: ${report.error.hint}`);
    },
    async end(movedWord) {
      if (json) await ctx.stdout.write(JSON.stringify({ lock: loc.shown, entries: reports }, null, 2) + '\n');
      ctx.logger.info(summary(reports, movedWord));
      return reports;
    },
  };
}
