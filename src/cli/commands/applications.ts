import type { Command } from 'commander';
import type { CliContext } from '../context';

/** `mecene applications …` commands. */
export function registerApplicationCommands(program: Command, ctx: CliContext): void {
  void program;
  void ctx;
}
