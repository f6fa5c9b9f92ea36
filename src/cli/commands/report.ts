import type { Command } from 'commander';
import type { CliContext } from '../context';

/** `mecene report …` commands. */
export function registerReportCommands(program: Command, ctx: CliContext): void {
  void program;
  void ctx;
}
